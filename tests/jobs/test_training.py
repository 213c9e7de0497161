"""Training for real (a few steps) and what it leaves in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.config import ConfigError
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.settings import SETTINGS_FILE


def test_training_logs_params_steps_epochs_and_inputs(tiny_trained, tiny_distilbert: Path) -> None:
    client = MlflowClient()
    run = client.get_run(tiny_trained.run_id)
    assert run.data.params["base_model"] == str(tiny_distilbert)
    assert run.data.params["max_length"] == "48"
    losses = client.get_metric_history(tiny_trained.run_id, "train_loss")
    assert len(losses) >= 20  # one point per optimiser step (363 rows / batch 16)
    assert [m.step for m in losses] == sorted(m.step for m in losses)
    lrs = client.get_metric_history(tiny_trained.run_id, "learning_rate")
    assert max(m.value for m in lrs) > lrs[-1].value  # warm-up then linear decay
    assert "valid_mean_roc_auc" in run.data.metrics
    # The suite's validation families, scored every epoch (families no training row came from).
    behaviour = client.get_metric_history(tiny_trained.run_id, "valid_behaviour_agreeing_accuracy")
    assert len(behaviour) == 1  # one epoch
    assert 0.0 <= behaviour[0].value <= 1.0
    assert run.data.metrics["train_samples_per_s"] > 0
    contexts = sorted(
        tag.value
        for dataset in run.inputs.dataset_inputs
        for tag in dataset.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["training", "validation"]


def test_saved_folder_is_self_describing(tiny_trained) -> None:
    folder = tiny_trained.saved_folder
    assert (folder / "model.safetensors").exists()
    assert (folder / "tokenizer.json").exists() or (folder / "vocab.txt").exists()
    settings = json.loads((folder / SETTINGS_FILE).read_text())
    assert settings["max_length"] == 48
    assert settings["labels"] == list(LABELS)


def test_logged_model_is_light_pinned_and_signed(tiny_trained) -> None:
    root = Path(mlflow.artifacts.download_artifacts(tiny_trained.model_uri))
    # The weights are an artifact, never pickled with the class.
    assert (root / "python_model.pkl").stat().st_size < 10_000
    assert list(root.glob("artifacts/classifier/model.safetensors"))
    requirements = (root / "requirements.txt").read_text().split()
    assert "torch==2.13.0" in requirements
    assert not any("+cpu" in line for line in requirements)
    info = mlflow.models.get_model_info(tiny_trained.model_uri)
    assert info.signature.inputs.input_names() == ["text"]
    assert info.signature.outputs.input_names() == list(LABELS)
    assert (root / "input_example.json").exists()


def test_minilm_learns_to_rank_insults_above_kindness(minilm_trained) -> None:
    model = mlflow.pyfunc.load_model(minilm_trained.model_uri)
    scores = model.predict(pd.DataFrame({"text": ["have a nice day", "you are a stupid idiot"]}))
    assert list(scores.columns) == list(LABELS)
    assert scores.loc[1, "toxicity"] > scores.loc[0, "toxicity"] + 0.3
    assert minilm_trained.best_valid_mean_roc_auc > 0.8


@pytest.mark.services  # trains the default encoder: about two minutes on 2 cores
def test_the_default_recipe_learns_on_the_demo_data(train_config, tmp_path: Path) -> None:
    """The MLproject defaults (MPNet's first six layers, lr 5e-5, two epochs) as `make demo` runs them."""
    from toxicity_pyfunc.jobs.training import train

    result = train(train_config(max_length=48, output_dir=str(tmp_path)))
    assert result is not None
    params = MlflowClient().get_run(result.run_id).data.params
    assert params["base_model"] == "mpnet-6"
    encoder = json.loads((result.saved_folder / "config.json").read_text())
    assert (encoder["model_type"], encoder["num_hidden_layers"], encoder["hidden_size"]) == ("mpnet", 6, 768)
    model = mlflow.pyfunc.load_model(result.model_uri)
    scores = model.predict(pd.DataFrame({"text": ["have a nice day", "you are a stupid idiot"]}))
    assert scores.loc[1, "toxicity"] > scores.loc[0, "toxicity"] + 0.3
    assert result.best_valid_mean_roc_auc > 0.8


def test_best_epoch_is_kept(minilm_trained) -> None:
    history = MlflowClient().get_metric_history(minilm_trained.run_id, "valid_mean_roc_auc")
    best = max(history, key=lambda m: m.value)
    assert minilm_trained.best_epoch == best.step
    assert minilm_trained.best_valid_mean_roc_auc == pytest.approx(best.value)


def test_weight_average_is_validated_in_place_then_training_resumes() -> None:
    import torch

    from toxicity_pyfunc.jobs.training.loop import WeightAverage

    layer = torch.nn.Linear(2, 1, bias=False)
    torch.nn.init.zeros_(layer.weight)
    average = WeightAverage(layer, decay=0.5)
    for _ in range(3):
        with torch.no_grad():
            layer.weight.add_(1.0)
        average.update()
    trained = layer.weight.detach().clone()  # 3.0 everywhere
    average.copy_to_model()
    averaged = layer.weight.detach().clone()
    assert 0.0 < float(averaged[0, 0]) < 3.0  # the average lags behind the last step
    average.restore_training_weights()
    assert torch.equal(layer.weight, trained)


def test_binary_targets_cut_shares_at_half_and_keep_unknown_cells(train_config) -> None:
    import numpy as np

    from toxicity_pyfunc.jobs.training.loop import training_targets

    frame = pd.DataFrame({"text": ["a"], **{label: [np.nan] for label in LABELS}})
    frame["toxicity"], frame["insult"] = 0.67, 0.33
    soft = training_targets(frame, "soft")
    binary = training_targets(frame, "binary")
    assert soft[0, 0] == pytest.approx(0.67)
    assert binary[0, 0] == 1.0
    assert binary[0, LABELS.index("insult")] == 0.0
    assert np.isnan(binary[0, LABELS.index("threat")])
    with pytest.raises(ConfigError, match="parameter targets: Input should be 'soft' or 'binary'"):
        train_config(targets="hard")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"identity_swaps": -1}, "parameter identity_swaps: Input should be greater than or equal to 0"),
        (
            {"identity_example_share": 3.0},
            "parameter identity_example_share: Input should be less than or equal to 1",
        ),
        ({"ema_decay": 1.0}, "parameter ema_decay: Input should be less than 1"),
        (
            {"lexical_max_weight": 1.5},
            "parameter lexical_max_weight: Input should be less than or equal to 1",
        ),
        ({"epochs": 2.5}, "parameter epochs: Value error, must be a whole number, got 2.5"),
        ({"surprise": 1}, "parameter surprise: Extra inputs are not permitted"),
    ],
)
def test_anti_bias_settings_out_of_range_say_which_and_why(
    train_config, override: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        train_config(**override)


def test_tfidf_companion_weight_is_chosen_on_validation_and_stored(minilm_trained) -> None:
    client = MlflowClient()
    metrics = client.get_run(minilm_trained.run_id).data.metrics
    curve = client.get_metric_history(minilm_trained.run_id, "valid_mean_roc_auc_by_lexical_weight")
    assert sorted(m.step for m in curve) == list(range(0, 51, 5))  # weights 0, 0.05, ..., 0.5
    best = max(curve, key=lambda m: (m.value, -m.step))
    assert metrics["lexical_weight"] == pytest.approx(best.step / 100)
    settings = json.loads((minilm_trained.saved_folder / SETTINGS_FILE).read_text())
    assert settings["lexical_weight"] == pytest.approx(metrics["lexical_weight"])
    assert (minilm_trained.saved_folder / "lexical.npz").exists() == (settings["lexical_weight"] > 0)
    assert 0.0 <= metrics["valid_blend_templates_identity_false_positive_rate"] <= 1.0


def test_flag_thresholds_are_chosen_on_validation_and_stored(minilm_trained, sample_data) -> None:
    metrics = MlflowClient().get_run(minilm_trained.run_id).data.metrics
    settings = json.loads((minilm_trained.saved_folder / SETTINGS_FILE).read_text())
    assert set(settings["thresholds"]) == set(LABELS)
    for label in LABELS:
        assert settings["thresholds"][label] == pytest.approx(metrics[f"threshold_{label}"])
    # On the file they were chosen on, the served model flags at least as well as at 0.5
    # (up to int8 serving moving a borderline row or two: a rare label has 2-3 positives here).
    from toxicity_pyfunc.jobs.metrics import f1_at_thresholds

    valid = pd.read_csv(sample_data / "valid.csv")
    served = mlflow.pyfunc.load_model(minilm_trained.model_uri).predict(valid[["text"]]).to_numpy()
    targets = valid[list(LABELS)].to_numpy(float)
    tuned = f1_at_thresholds(targets, served, settings["thresholds"])["mean_f1_at_thresholds"]
    at_half = f1_at_thresholds(targets, served, {})["mean_f1_at_thresholds"]
    # Chosen on the PyTorch scores, applied to int8 ones: a borderline row of a rare label (2-3
    # positives here) may cross; the thresholds must not make flagging worse than that.
    assert tuned >= at_half - 0.1, (tuned, at_half)


def test_no_companion_when_its_weight_is_capped_at_zero(tiny_encoder_only) -> None:
    settings = json.loads((tiny_encoder_only.saved_folder / SETTINGS_FILE).read_text())
    assert settings["lexical_weight"] == 0.0
    assert not (tiny_encoder_only.saved_folder / "lexical.npz").exists()
    assert "lexical_weight" not in MlflowClient().get_run(tiny_encoder_only.run_id).data.metrics


def test_a_soup_serves_the_mean_of_its_members_weights(
    tiny_distilbert: Path, train_config, sample_data
) -> None:
    import numpy as np
    import torch

    from toxicity_pyfunc.jobs.data import load_labelled
    from toxicity_pyfunc.jobs.metrics import label_metrics
    from toxicity_pyfunc.jobs.training.base_models import build_network
    from toxicity_pyfunc.jobs.training.loop import BestEpoch, soup

    network, tokenizer = build_network(str(tiny_distilbert), "cls")
    valid = load_labelled(str(sample_data / "valid.csv"))
    members = []
    for epoch, shift in ((1, 0.01), (2, -0.03)):
        member = BestEpoch()
        with torch.no_grad():
            for parameter in network.parameters():
                parameter.add_(shift)
        member.offer(epoch, 0.5, network, np.zeros((len(valid), len(LABELS))))
        members.append(member)
    states = [m.state for m in members]
    assert states[0] is not None
    assert states[1] is not None
    with mlflow.start_run():
        kept = soup(train_config(max_length=32), network, tokenizer, members, valid)
    for key, value in network.state_dict().items():
        first, second = states[0][key], states[1][key]
        if value.is_floating_point():
            torch.testing.assert_close(value, (first + second) / 2)
        else:
            assert torch.equal(value, first)  # position ids and the like are kept as they are
    assert kept.epoch == 2
    assert kept.scores is not None
    assert kept.scores.shape == (len(valid), len(LABELS))
    targets = valid[list(LABELS)].to_numpy(np.float32)
    assert kept.auc == pytest.approx(label_metrics(targets, kept.scores)["mean_roc_auc"])


def test_soup_members_train_on_their_own_draws_and_are_logged_one_after_another(
    tiny_distilbert: Path, train_config, tmp_path: Path
) -> None:
    from toxicity_pyfunc.jobs.training import train

    result = train(
        train_config(
            base_model=str(tiny_distilbert), epochs=1, max_length=32, soup_members=2, output_dir=str(tmp_path)
        )
    )
    assert result is not None
    client = MlflowClient()
    metrics = client.get_run(result.run_id).data.metrics
    assert {"member_0_best_valid_mean_roc_auc", "member_1_best_valid_mean_roc_auc"} <= set(metrics)
    assert metrics["best_valid_mean_roc_auc"] == pytest.approx(metrics["soup_valid_mean_roc_auc"])
    history = client.get_metric_history(result.run_id, "valid_mean_roc_auc")
    assert sorted(point.step for point in history) == [1, 2]  # member 1's epoch after member 0's
    assert history[0].value != history[1].value  # another data draw and order, another model


def test_distilled_targets_mix_known_cells_and_let_the_teacher_fill_unknown_ones() -> None:
    from toxicity_pyfunc.jobs.training.teacher import distilled_targets

    labels = np.array([[1.0, np.nan], [0.0, 0.5]], dtype=np.float32)
    teacher = np.array([[0.6, 0.2], [0.4, 0.9]], dtype=np.float32)
    mixed = distilled_targets(labels, teacher, 0.25)
    np.testing.assert_allclose(mixed, [[0.75 + 0.15, 0.2], [0.1, 0.375 + 0.225]], rtol=1e-6)
    assert np.isnan(distilled_targets(labels, teacher, 0.0)[0, 1])  # no teacher's say: still unknown


def test_a_teacher_that_cannot_be_loaded_is_named_before_any_training(train_config, tmp_path: Path) -> None:
    from toxicity_pyfunc.jobs.training import train

    with pytest.raises(ConfigError, match=r"teacher_model.*no-such-model"):
        train(train_config(teacher_model=str(tmp_path / "no-such-model"), output_dir=str(tmp_path)))
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_a_student_trains_on_its_teachers_scores(
    tiny_trained, tiny_distilbert: Path, train_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toxicity_pyfunc.jobs.training import loop, train

    seen: list[np.ndarray] = []
    original_rows = loop.LabelledRows

    def recording(encoded, targets, *rest):  # the targets the loop trains on
        seen.append(targets)
        return original_rows(encoded, targets, *rest)

    monkeypatch.setattr(loop, "LabelledRows", recording)
    result = train(
        train_config(
            base_model=str(tiny_distilbert),
            epochs=1,
            max_length=32,
            teacher_model=str(tiny_trained.saved_folder),
            distill_weight=1.0,
            output_dir=str(tmp_path),
        )
    )
    assert result is not None
    (targets,) = seen
    # The sample's labels are 0/1 shares with unknown cells; with weight 1 every cell is the teacher's.
    assert not np.isnan(targets).any()
    assert ((targets > 0) & (targets < 1)).all()
    metrics = MlflowClient().get_run(result.run_id).data.metrics
    assert metrics["teacher_filled_cells"] >= 76 * 5  # the sample rows that know only toxicity
    assert metrics["teacher_train_mean_roc_auc"] > 0.6  # it was trained on these rows
