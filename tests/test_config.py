"""The training-config schema: safe YAML, every mistake an error that says where and what."""
from pathlib import Path

import pytest
import yaml

from brr_lab.configs import (ConfigError, TrainConfig, effective_fraction, load_config,
                            parse_config, resolve_pos_weight)
from brr_lab.configs.legacy import DEFAULTS, KEY_MAP, LEGACY_KEYS, map_legacy

EXAMPLES = Path(__file__).resolve().parents[1] / "configs" / "examples"


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path):
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def test_every_example_config_validates():
    files = sorted(EXAMPLES.rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        load_config(path)


def test_defaults_are_one_plain_model():
    cfg = TrainConfig()
    assert cfg.loss.kind == "bce" and cfg.loss.alpha is None and cfg.loss.pos_weight is None
    assert cfg.sampler.balanced is False and cfg.eval.threshold == 0.5
    assert cfg.trainer.prior_bias_init is False and cfg.data.label_rule == "any"
    assert TrainConfig.model_validate(cfg.model_dump()) == cfg  # round trip


def test_reads_the_after_fix_example():
    cfg = load_config(EXAMPLES / "after_fix" / "train.yaml").config
    assert (cfg.loss.kind, cfg.loss.alpha, cfg.loss.pos_weight) == ("focal", 0.5, "auto")
    assert cfg.sampler.balanced and cfg.sampler.target_fraction == 0.5


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "loss:\n  kind: focal\n  alpha: [0.25\n")
    err = problems(path)
    assert isinstance(err, ValueError)
    assert str(path) in str(err) and "malformed YAML" in str(err)
    assert err.problems[0].line is not None


def test_yaml_that_builds_objects_is_refused(tmp_path):
    # yaml.safe_load only: a python/object tag is malformed input, never executed.
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    assert "malformed YAML" in str(problems(path))


@pytest.mark.parametrize("text,fragment", [
    ("", "empty"),
    ("- 1\n- 2\n", "top level must be a mapping"),
])
def test_empty_or_not_a_mapping(tmp_path, text, fragment):
    assert fragment in str(problems(write(tmp_path, text)))


def test_unknown_key_suggests_closest(tmp_path):
    path = write(tmp_path, "loss:\n  kind: focal\n  alpah: 0.25\n")
    err = problems(path)
    (p,) = err.problems
    assert p.key == "loss.alpah" and p.line == 3
    assert "did you mean 'loss.alpha'?" in p.message
    assert f"{path}:3: loss.alpah" in str(err)


def test_unknown_section_suggests_closest(tmp_path):
    err = problems(write(tmp_path, "trainr:\n  epochs: 3\n"))
    assert "did you mean 'trainer'?" in str(err)


@pytest.mark.parametrize("text,key,value", [
    ("trainer:\n  epochs: 3.5\n", "trainer.epochs", "3.5"),
    ("trainer:\n  epochs: '30'\n", "trainer.epochs", "'30'"),
    ("loss:\n  gamma: two\n", "loss.gamma", "'two'"),
    ("loss:\n  alpha: 1.5\n", "loss.alpha", "1.5"),
    ("loss:\n  pos_weight: autoo\n", "loss.pos_weight", "'autoo'"),
    ("loss:\n  pos_weight: -2\n", "loss.pos_weight", "-2"),
    ("loss:\n  kind: dice\n", "loss.kind", "'dice'"),
    ("sampler:\n  balanced: 1\n", "sampler.balanced", "1"),
    ("sampler:\n  target_fraction: 1.0\n", "sampler.target_fraction", "1.0"),
    ("eval:\n  threshold: 0\n", "eval.threshold", "0"),
    ("trainer:\n  seed: 4294967296\n", "trainer.seed", "4294967296"),  # 2**32: past MAX_SEED
    ("loss: focal\n", "loss", "'focal'"),
])
def test_wrong_type_or_range_names_key_line_and_value(tmp_path, text, key, value):
    path = write(tmp_path, text)
    err = problems(path)
    (p,) = err.problems
    assert p.key == key
    assert p.line is not None
    assert f"Got {value} instead" in p.message
    assert f"{path}:{p.line}: {key}:" in str(err)


def test_all_problems_of_a_file_are_listed(tmp_path):
    err = problems(write(tmp_path, "loss:\n  alpha: 2\n  gama: 1\ntrainer:\n  lr: -1\n"))
    assert [p.key for p in err.problems] == ["loss.alpha", "loss.gama", "trainer.lr"]


def test_duplicate_key_is_an_error(tmp_path):
    err = problems(write(tmp_path, "loss:\n  kind: focal\n  kind: bce\n"))
    assert err.problems[0].key == "loss.kind" and "twice" in str(err)


def test_unreadable_file(tmp_path):
    err = problems(tmp_path / "missing.yaml")
    assert "cannot read" in str(err)


def test_scientific_notation_without_dot_is_a_number(tmp_path):
    # PyYAML reads 1e-3 as the string '1e-3' (YAML 1.1); it means the number.
    assert yaml.safe_load("lr: 1e-3")["lr"] == "1e-3"
    cfg = load_config(write(tmp_path, "trainer:\n  lr: 1e-3\n")).config
    assert cfg.trainer.lr == pytest.approx(1e-3)


def test_quoted_none_is_not_null(tmp_path):
    err = problems(write(tmp_path, "loss:\n  alpha: None\n"))
    assert "write null" in str(err)


def test_pos_weight_and_fraction_resolution():
    pi = 1 / 13
    assert resolve_pos_weight("auto", pi) == pytest.approx(12)
    assert resolve_pos_weight("sqrt", pi) == pytest.approx(12 ** 0.5)
    assert resolve_pos_weight(3, pi) == 3.0 and resolve_pos_weight(None, pi) is None
    f = effective_fraction("sqrt", pi)
    # odds of a positive go from 1/12 to sqrt(1/12): the sampler's factor is sqrt(12)
    assert (f / (1 - f)) / (pi / (1 - pi)) == pytest.approx(12 ** 0.5)
    assert effective_fraction(0.5, pi) == 0.5


# --------------------------------------------------------------------------- legacy layout


def test_legacy_layout_is_mapped():
    loaded = load_config(EXAMPLES / "legacy" / "after_fix.yaml")
    assert loaded.layout == "brain-go-brr-v2"
    cfg = loaded.config
    assert (cfg.loss.kind, cfg.loss.alpha, cfg.loss.gamma) == ("focal", 0.5, 2.0)
    assert cfg.loss.pos_weight == "sqrt"  # the original loop's computed pos_weight
    assert cfg.sampler.balanced and cfg.sampler.target_fraction == "sqrt"
    assert cfg.trainer.lr == pytest.approx(3e-4) and cfg.trainer.seed == 42
    assert (cfg.data.window_s, cfg.data.stride_s, cfg.data.sfreq) == (60, 10, 256)
    assert (cfg.data.l_freq, cfg.data.h_freq) == (0.5, 120)
    assert loaded.dropped_pos_weight is None


def test_legacy_alpha_not_half_drops_pos_weight():
    loaded = load_config(EXAMPLES / "legacy" / "before_fix.yaml")
    assert loaded.config.loss.pos_weight is None
    assert "drops it silently" in loaded.dropped_pos_weight


def test_legacy_bce_keeps_pos_weight_whatever_alpha(tmp_path):
    loaded = load_config(write(tmp_path, "training:\n  loss: bce\n  focal_alpha: 0.25\n"))
    assert loaded.config.loss.pos_weight == "sqrt" and loaded.dropped_pos_weight is None


def test_legacy_real_keys_are_accepted(tmp_path):
    text = """
experiment: {name: x, seed: 1, device: cuda, output_dir: r, wandb: {enabled: false, tags: [a]}}
model:
  architecture: v3
  graph: {enabled: true, use_pyg: true, edge_similarity_margin: 0.01, alpha: 0.05}
  norms: {boundary_norm: layernorm}
  mamba: {n_layers: 6, temporal_type: gated_deltanet}
training:
  loss: focal
  focal_alpha: 0.5
  learning_rate: 5e-5
  warmup_schedule: {enabled: true, focal_gamma_start: 1.0}
  checkpoint_interval: 5
  mid_epoch_keep: 3
  early_stopping: {patience: 5, metric: sensitivity_at_10fa}
postprocessing: {hysteresis: {tau_on: 0.86, tau_off: 0.78}, stitching: {method: max}}
resources: {compile_model: false, tf32_mode: true}
logging: {wandb: {enabled: false}}
"""
    cfg = load_config(write(tmp_path, text)).config
    assert cfg.trainer.lr == pytest.approx(5e-5) and cfg.trainer.device == "cuda"


def test_legacy_defaults_are_noted(tmp_path):
    loaded = load_config(write(tmp_path, "training:\n  loss: focal\n"))
    assert loaded.config.loss.alpha == DEFAULTS["training.focal_alpha"]
    assert loaded.config.sampler.balanced is DEFAULTS["data.use_balanced_sampling"]
    assert any("training.focal_alpha not set" in n for n in loaded.notes)


@pytest.mark.parametrize("text,key,hint", [
    ("training:\n  focal_alpah: 0.5\n", "training.focal_alpah", "training.focal_alpha"),
    ("training:\n  loss: focal\ndata:\n  use_balanced_sampleing: true\n",
     "data.use_balanced_sampleing", "data.use_balanced_sampling"),
    ("experimnt:\n  seed: 1\ntraining: {}\n", "experimnt", "experiment"),
    ("model:\n  graph:\n    edge_top_kk: 3\n", "model.graph.edge_top_kk", "model.graph.edge_top_k"),
])
def test_legacy_misspelt_key_is_an_error(tmp_path, text, key, hint):
    err = problems(write(tmp_path, text))
    (p,) = err.problems
    assert p.key == key and f"did you mean '{hint}'?" in p.message and p.line is not None


def test_legacy_wrong_value_names_the_original_key(tmp_path):
    err = problems(write(tmp_path, "training:\n  loss: focal\n  focal_alpha: 1.5\n"))
    (p,) = err.problems
    assert p.key == "training.focal_alpha" and p.line == 3 and "Got 1.5 instead" in p.message


def test_legacy_section_must_be_a_mapping(tmp_path):
    err = problems(write(tmp_path, "training: 5\n"))
    assert err.problems[0].key == "training" and "mapping" in str(err)


def test_legacy_key_map_targets_exist():
    # every mapped original key is in the key tree, every target in the brr_lab schema
    for old, new in KEY_MAP.items():
        node = LEGACY_KEYS
        for part in old.split("."):
            node = node[part] if node is not None else None
        section, _, name = new.rpartition(".")
        model = TrainConfig if not section else TrainConfig.model_fields[section].annotation
        assert name in model.model_fields, new


def test_parse_config_takes_a_dict():
    loaded = parse_config({"loss": {"kind": "focal", "alpha": 0.25}})
    assert loaded.config.loss.alpha == 0.25 and "loss.alpha" in loaded.explicit
    with pytest.raises(ConfigError):
        map_legacy({"training": {"los": "bce"}}, {}, "x.yaml")


def test_from_yaml_reads_either_layout():
    assert TrainConfig.from_yaml(EXAMPLES / "clean" / "train.yaml").loss.pos_weight == "auto"
    assert TrainConfig.from_yaml(EXAMPLES / "legacy" / "after_fix.yaml").trainer.seed == 42


def test_device_names(tmp_path):
    for name in ("auto", "cpu", "cuda", "cuda:1", "mps"):
        assert parse_config({"trainer": {"device": name}}).config.trainer.device == name
    err = problems(write(tmp_path, "trainer:\n  device: gpu\n"))
    assert "Got 'gpu' instead" in str(err)


def test_loss_and_sampler_resolve_against_prevalence():
    pi = 1 / 13
    after = TrainConfig.from_yaml(EXAMPLES / "after_fix" / "train.yaml")
    assert after.loss_kwargs(pi) == {"alpha": 0.5, "gamma": 2.0,
                                     "pos_weight": pytest.approx(12)}
    assert after.sampler_fraction(pi) == 0.5
    bce = parse_config({"loss": {"kind": "bce", "alpha": 0.25, "gamma": 3}}).config
    assert bce.loss_kwargs(pi) == {"alpha": None, "gamma": 0.0, "pos_weight": None}
    assert bce.sampler_fraction(pi) is None


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text, expected", [
    (".: null\n", r":1: \.: unknown key\. Known keys here: data, description"),
    ("float: 1\n", r":1: float: unknown key"),
    ("loss: {kind: bce}\n\x08\n", r":2: malformed YAML: character #x0008 is not allowed"),
    ("eval: {threshold: .nan}\n", r"eval\.threshold: must be a finite number"),
    ("trainer: {grad_clip: -.inf}\n", r"trainer\.grad_clip: must be a finite number"),
])
def test_odd_keys_and_values_get_a_located_message(tmp_path, text, expected):
    import re

    err = problems(write(tmp_path, text))
    assert re.search(expected, str(err)), str(err)


def test_aliases_within_the_limit_are_read_and_merge_keys_keep_lines(tmp_path):
    path = write(tmp_path, "data: &d {window_s: 4.0}\nloss:\n  <<: {kind: focal}\n  gamma: .inf\n")
    err = problems(path)
    assert "c.yaml:4: loss.gamma: must be a finite number" in str(err)
    path = write(tmp_path, "loss: &l {kind: focal, gamma: 1.0}\nsampler: {balanced: false}\n")
    assert load_config(path).config.loss.gamma == 1.0


def test_a_high_pass_edge_of_zero_is_refused_as_the_windowing_refuses_it(tmp_path):
    # The audit accepted l_freq 0 and `brr-lab train` then failed in make_windows.
    err = problems(write(tmp_path, "data:\n  l_freq: 0\n"))
    assert "c.yaml:2: data.l_freq" in str(err) and "Hz > 0" in str(err)


def test_an_empty_data_path_is_refused_not_read_as_the_working_directory(tmp_path):
    err = problems(write(tmp_path, "data:\n  path: ''\n"))
    assert "c.yaml:2: data.path" in str(err)


def test_a_merge_key_override_is_no_duplicate(tmp_path):
    # `<<: *base` brings base's keys in; a key written after it overrides, as YAML defines.
    from brr_lab.configs.yaml_reader import read_yaml

    text = "base: &b\n  kind: focal\n  alpha: 0.25\nloss:\n  <<: *b\n  alpha: 0.5\n"
    data, lines = read_yaml(write(tmp_path, text))
    assert data["loss"] == {"kind": "focal", "alpha": 0.5}
    assert lines["loss.alpha"] == 6 and lines["loss.kind"] == 2
    err = problems(write(tmp_path, "loss:\n  alpha: 0.25\n  alpha: 0.5\n", "dup.yaml"))
    assert "written twice" in str(err)  # a key really written twice still is one
