"""The exported models compute what the torch models compute (issue #24: parity to 1e-4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from explainer import onnx_export, reasoning


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx")
    return out, onnx_export.export_reasoners(out)


@pytest.mark.parametrize("name", onnx_export.PANEL_REASONERS)
def test_onnx_logits_equal_torch_logits(exported, name):
    """On the book's own inputs (whole worked examples) to 1e-4; on random token strings,
    whose logits run to +-30, to 1e-4 plus 1e-5 of the logit."""
    out, manifest = exported
    r = reasoning.load_pretrained(name)
    info = manifest["reasoners"][name]
    fmt = "direct" if r.fmt == "direct" else "cot"
    texts = [reasoning.format_example(p, fmt)[:-1] for p in reasoning.make_problems(16, digits=4, seed=3)]
    real = torch.tensor([reasoning.encode(t) for t in texts])  # (16, block_size)
    gen = torch.Generator().manual_seed(0)
    for idx, rtol in ((real, 0.0), (real[:1, :2], 0.0), (real[:3, : info["prompt_len"]], 0.0),
                      (torch.randint(0, len(reasoning.VOCAB), (8, info["block_size"]),
                                     generator=gen), 1e-5)):
        with torch.no_grad():
            want = r.model(idx).numpy()
        got = onnx_export.onnx_logits(out / info["file"], idx)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-4, err_msg=name)


def test_the_manifest_describes_each_file(exported):
    out, manifest = exported
    on_disk = json.loads((out / onnx_export.MANIFEST).read_text())
    assert on_disk == manifest
    for name, info in manifest["reasoners"].items():
        assert (out / info["file"]).stat().st_size == info["bytes"]
        assert info["vocab"] == reasoning.VOCAB and info["max_digits"] == reasoning.MAX_DIGITS
        cfg = reasoning.load_pretrained(name).config
        assert info["block_size"] == cfg.block_size == info["prompt_len"] + info["completion_len"] - 1


def test_the_run_checkpoints_are_exported_and_compute_their_models(exported, monkeypatch):
    """Every step of the run in the manifest; step 0 and the last step reuse the base and
    GRPO files; a middle step's file computes that checkpoint's logits. (One middle step
    here: each export takes seconds; the book build exports them all.)"""
    from explainer import grpo

    out, manifest = exported
    monkeypatch.setattr(grpo, "RUN_CHECKPOINTS", (0, 2, grpo.STEPS))
    run = onnx_export.export_run(out, manifest["reasoners"])
    assert run["steps"] == [0, 2, grpo.STEPS]
    assert run["checkpoints"]["0"]["file"] == manifest["reasoners"]["base"]["file"]
    assert run["checkpoints"][str(grpo.STEPS)]["file"] == manifest["reasoners"]["grpo"]["file"]
    assert len({c["weights_sha256"] for c in run["checkpoints"].values()}) == len(run["steps"])
    idx = torch.tensor([reasoning.encode(reasoning.format_example("48765+25937", "cot")[:-1])])
    with torch.no_grad():
        want = grpo.load_checkpoint(2).model(idx).numpy()
    got = onnx_export.onnx_logits(out / run["checkpoints"]["2"]["file"], idx)
    np.testing.assert_allclose(got, want, atol=1e-4)
    with pytest.raises(ValueError, match="base and grpo"):
        onnx_export.export_run(out, {"base": manifest["reasoners"]["base"]})


def test_an_unchanged_checkpoint_is_not_exported_again(exported, monkeypatch):
    out, manifest = exported
    monkeypatch.setattr(onnx_export, "export_gpt", lambda *a: pytest.fail("exported again"))
    assert onnx_export.export_reasoners(out) == manifest


def test_a_second_export_all_exports_nothing(tmp_path, monkeypatch):
    """Every build calls export_all on the checkout's shared folder; a second call with the
    same checkpoints must reuse every file. (The GRPO run's steps were exported again by every
    build, 15 s each time, because the run's previous entries were read after export_reasoners
    had rewritten models.json.) The exporters are replaced by stubs that write a file, so the
    test is about the bookkeeping."""
    from explainer import grpo, moe

    monkeypatch.setattr(grpo, "RUN_CHECKPOINTS", (0, 2, 3, grpo.STEPS))
    monkeypatch.setattr(moe, "BALANCE_RUNS", moe.BALANCE_RUNS[:1])
    exported: list[str] = []

    def gpt(model, path):
        exported.append(Path(path).name)
        Path(path).write_bytes(b"onnx")
        return Path(path)

    def moe_file(out, run):
        exported.append(f"moe_{run}")
        (Path(out) / f"moe_{run}.onnx").write_bytes(b"onnx")
        return {"file": f"moe_{run}.onnx"}

    def mtp_files(out, name):
        exported.append(name)
        for k in ("main", "draft"):
            (Path(out) / f"{name}_{k}.onnx").write_bytes(b"onnx")
        return {"main": f"{name}_main.onnx", "draft": f"{name}_draft.onnx"}

    monkeypatch.setattr(onnx_export, "export_gpt", gpt)
    monkeypatch.setattr(onnx_export, "export_moe", moe_file)
    monkeypatch.setattr(onnx_export, "export_mtp", mtp_files)
    first = onnx_export.export_all(tmp_path)
    assert sorted(exported) == sorted(
        [f"reasoner_{n}.onnx" for n in onnx_export.PANEL_REASONERS]
        + ["grpo_step_002.onnx", "grpo_step_003.onnx", f"moe_{moe.BALANCE_RUNS[0]}", "mtp"])
    exported.clear()
    assert onnx_export.export_all(tmp_path) == first
    assert exported == []


@pytest.mark.parametrize("call, match", [
    (lambda: onnx_export.export_reasoners("/tmp/x", ("nope",)), "names must be shipped"),
    (lambda: onnx_export.export_reasoners("/tmp/x", ()), "names must be shipped"),
    (lambda: onnx_export.export_gpt("model", "/tmp/x.onnx"), "model must be"),
    (lambda: onnx_export.export_gpt(reasoning.load_pretrained("cot").model, "/tmp/x.pt"),
     "path must end in .onnx"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_mtp_files_compute_the_main_model_and_the_draft(tmp_path):
    from explainer import mtp

    entry = onnx_export.export_mtp(tmp_path, "mtp")
    lm = mtp.load_pretrained("mtp")
    ids = torch.tensor([lm.tokenizer.encode("The main model checks the draft")])
    logits, hidden = onnx_export.onnx_logits(tmp_path / entry["main"], ids), None
    import onnxruntime as ort

    main = ort.InferenceSession(str(tmp_path / entry["main"]))
    logits, hidden = main.run(None, {"idx": ids.numpy()})
    with torch.no_grad():
        want_logits, want_hidden = lm.gpt(ids, return_hidden=True)
        want_draft = lm.gpt.output_head(
            lm.mtp[0](want_hidden[:, :-1], lm.gpt.transformer.wte(ids[:, 1:]))[0])
    np.testing.assert_allclose(logits, want_logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(hidden, want_hidden.numpy(), atol=1e-4)
    draft = ort.InferenceSession(str(tmp_path / entry["draft"]))
    got = draft.run(None, {"hidden": hidden[:, :-1], "next_ids": ids[:, 1:].numpy()})[0]
    np.testing.assert_allclose(got, want_draft.numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="name must be an MTP model"):
        onnx_export.export_mtp(tmp_path, "plain")


@pytest.mark.parametrize("run", ["none", "aux_loss", "bias"])
def test_the_moe_routing_file_chooses_the_experts_the_model_chooses(tmp_path, run):
    from explainer import moe_lm
    from explainer.data import data_path

    entry = onnx_export.export_moe(tmp_path, run)
    model = moe_lm.load(data_path("weights", f"moe_{run}.pt"))
    text = "DeepSeek routes each token to a few experts."
    ids = torch.tensor([moe_lm.encode(text, model.config.vocab)])
    with torch.no_grad():
        model(ids)
    import onnxruntime as ort

    experts, weights = ort.InferenceSession(str(tmp_path / entry["file"])).run(
        None, {"idx": ids.numpy()})
    for layer, m in enumerate(model.moe_layers):
        np.testing.assert_array_equal(experts[layer], m.last_routing.indices.numpy())
        np.testing.assert_allclose(weights[layer], m.last_routing.weights.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="run must be one of"):
        onnx_export.export_moe(tmp_path, "coarse")
