"""The one config loader: YAML / checkpoint config → validated config dataclass, one-line errors."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stygaze.config import COUNT, FRACTION, POSITIVE, Range, from_dict, limits, load_config, option, read_yaml
from stygaze.errors import CheckpointError, ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# --- the four trainers' configs reject hostile values, naming the field and the file -------------
def _load_generator(path):
    from stygaze.stygazetalk.train_generator import load_generator_run_config

    return load_generator_run_config(path)


def _load_cvae(path):
    from stygaze.cvae.train import load_train_config

    return load_train_config(path)


def _load_omnihead(path):
    from stygaze.omnihead.train import load_train_config

    return load_train_config(path)


@pytest.mark.parametrize(
    "loader, text, field_name, says",
    [
        (_load_generator, "generator_train: {lr: -1}", "generator_train.lr", "> 0"),
        (_load_generator, "generator_train: {lr: x}", "generator_train.lr", "a number"),
        (_load_generator, "generator_train: {lr: '0.001'}", "generator_train.lr", "a number"),
        (_load_generator, "generator_train: {batch_size: 0}", "generator_train.batch_size", "≥ 1"),
        (_load_generator, "generator_train: {batch_size: 8.5}", "generator_train.batch_size", "an integer"),
        (_load_generator, "generator: {hidden: -5}", "generator.hidden", "in [1, 4096]"),
        (_load_generator, "generator: {M: 0}", "generator.M", "in [1, 1000]"),
        (_load_generator, "generator: {d: 3000000}", "generator.d", "in [1, 4096]"),
        (_load_generator, "generator: {kind: gru}", "generator.kind", "one of 'lstm', 'transformer'"),
        (_load_generator, "generator_train: {max_epochs: -1}", "generator_train.max_epochs", "≥ 1"),
        (_load_generator, "generator_train: {threads: 0}", "generator_train.threads", "in [1, 1024]"),
        (_load_generator, "generator_train: {windows_per_epoch: 0}", "generator_train.windows_per_epoch", "≥ 1"),
        (_load_generator, "generator_train: {start_prob: 1.5}", "generator_train.start_prob", "in [0, 1]"),
        (_load_generator, "style_train: {seed: -3}", "style_train.seed", "in [0,"),
        (_load_generator, "style_encoder: {dropout: 1.0}", "style_encoder.dropout", "in [0, 1)"),
        (_load_generator, "generator: {beat_feature: 1}", "generator.beat_feature", "true or false"),
        (_load_generator, "generator_train: {lr: .nan}", "generator_train.lr", "a finite number"),
        (_load_cvae, "lr: -1", "lr", "> 0"),
        (_load_cvae, "model: {hidden: -5}", "model.hidden", "in [1, 4096]"),
        (_load_cvae, "model: {z_dim: 0}", "model.z_dim", "in [1, 4096]"),
        (_load_cvae, "p_start: 2", "p_start", "in [0, 1]"),
        (_load_cvae, "epochs: 0", "epochs", "≥ 1"),
        (_load_omnihead, "batch_size: 0", "batch_size", "≥ 1"),
        (_load_omnihead, "num_threads: 0", "num_threads", "in [1, 1024]"),
        (_load_omnihead, "val_sessions: -0.1", "val_sessions", "in [0, 1]"),
        (_load_omnihead, "supersample: 5", "supersample", "in [1, 4]"),
        (_load_omnihead, "binary_class_weights: [1, 0]", "binary_class_weights[1]", "> 0"),
        (_load_omnihead, "binary_class_weights: [1, 2, 3]", "binary_class_weights", "a list of 2 values"),
        (_load_omnihead, "loss_weights: {gaze: -1}", "loss_weights.gaze", "≥ 0"),
        (_load_omnihead, "randomize: {hflip: 2}", "randomize.hflip", "in [0, 1]"),
        (_load_omnihead, "train_only: [pupil]", "train_only[0]", "one of"),
    ],
)
def test_hostile_values_are_refused_with_one_line_naming_field_and_file(tmp_path, loader, text, field_name, says):
    path = _write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as exc:
        loader(path)
    msg = _one_line(exc)
    assert msg.startswith(f"{path}: {field_name} must be ") and says in msg, msg
    assert isinstance(exc.value, DataError)  # the CLI's exit-2 family


@pytest.mark.parametrize("loader", [_load_generator, _load_cvae, _load_omnihead])
def test_unknown_keys_lists_and_broken_files(tmp_path, loader):
    with pytest.raises(ConfigError, match=r"unknown keys \['bogus'\]"):
        loader(_write(tmp_path, "bogus: 1\n"))
    with pytest.raises(ConfigError, match="must be a mapping of keys to values, not a list"):
        loader(_write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        loader(_write(tmp_path, "a: [1, 2\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        loader(tmp_path / "missing.yaml")


def test_nested_unknown_key_and_section_of_wrong_type(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown keys \['generator.hiddn'\]"):
        _load_generator(_write(tmp_path, "generator: {hiddn: 3}\n"))
    with pytest.raises(ConfigError, match="'generator' must be a mapping"):
        _load_generator(_write(tmp_path, "generator: [1, 2]\n"))


def test_cross_field_checks_of_the_classes_become_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"c\.yaml: model: need context >= 1"):
        _load_cvae(_write(tmp_path, "model: {chunk: 4, context: 9}\n"))
    with pytest.raises(ConfigError, match="style_dim 8 != style_encoder.style_dim 64"):
        _load_generator(_write(tmp_path, "generator: {style_dim: 8}\n"))


def test_yaml_1_2_floats_and_values_kept_as_written(tmp_path):
    cfg = _load_generator(_write(tmp_path, "generator_train: {lr: 1e-3, max_minutes: 0, threads: 2}\ngenerator: {dropout: 0}\n"))
    assert cfg.generator_train.lr == 0.001 and isinstance(cfg.generator_train.lr, float)
    assert cfg.generator_train.max_minutes == 0 and cfg.generator_train.threads == 2
    assert cfg.generator.dropout == 0 and type(cfg.generator.dropout) is int  # validated, not converted
    assert read_yaml(_write(tmp_path, "a: 2e5\nb: 1.5\nc: .inf\n")) == {"a": 2e5, "b": 1.5, "c": float("inf")}


def test_overrides_are_validated_and_none_is_skipped(tmp_path):
    path = _write(tmp_path, "generator_train: {max_epochs: 5}\n")
    from stygaze.stygazetalk.train_generator import load_generator_run_config

    cfg = load_generator_run_config(path, overrides={"generator_train": {"max_epochs": 2, "seed": None}})
    assert cfg.generator_train.max_epochs == 2 and cfg.generator_train.seed == 0
    with pytest.raises(ConfigError, match="generator_train.max_epochs must be ≥ 1, got 0"):
        load_generator_run_config(path, overrides={"generator_train": {"max_epochs": 0}})
    bare = _write(tmp_path, "generator: {hidden: 16}\n")  # no generator_train section: unset flags change nothing
    assert load_generator_run_config(bare, overrides={"generator_train": {"max_epochs": None, "seed": 4}}).generator_train.seed == 4


def test_every_shipped_config_loads():
    from stygaze.stygazetalk.train_style import load_style_run_config

    for path in sorted((REPO / "configs").glob("*.yaml")):
        if path.name.startswith("cvae"):
            _load_cvae(path)
        elif path.name.startswith("omnihead"):
            _load_omnihead(path)
        else:
            _load_generator(path)
            load_style_run_config(path)


# --- checkpoint configs go through the same checks ------------------------------------------------
@pytest.mark.parametrize(
    "change, says",
    [
        ({"d": 3000000}, "d must be in [1, 4096], got 3000000"),
        ({"M": 0}, "M must be in [1, 1000], got 0"),
        ({"hidden": "128"}, "hidden must be an integer, got '128'"),
        ({"dropuot": 0.1}, "unknown keys ['dropuot']"),
    ],
)
def test_bad_checkpoint_config_is_refused_before_building(tmp_path, change, says):
    from stygaze.checkpoint import builtin_dir
    from stygaze.stygazetalk.generator import StyGazeTalkModel

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    payload = json.loads((builtin_dir("stygazetalk") / "config.json").read_text())
    payload["config"]["generator"].update(change)
    (ckpt / "config.json").write_text(json.dumps(payload))
    (ckpt / "model.safetensors").write_bytes((builtin_dir("stygazetalk") / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError) as exc:
        StyGazeTalkModel.load(ckpt)
    msg = _one_line(exc)
    assert msg.startswith(f"{ckpt}: ") and says in msg, msg


def test_builtin_checkpoint_configs_pass():
    from stygaze.checkpoint import build_config, builtin_dir, read_checkpoint
    from stygaze.cvae.model import CVAEConfig
    from stygaze.omnihead.config import OmniHeadConfig
    from stygaze.stygazetalk.generator import GeneratorConfig

    assert build_config(CVAEConfig, read_checkpoint(builtin_dir("cvae")).config).hidden == 64
    assert build_config(OmniHeadConfig, read_checkpoint(builtin_dir("omnihead")).config).depths == (2, 2)
    assert build_config(GeneratorConfig, read_checkpoint(builtin_dir("stygazetalk")).config["generator"]).M == 20


# --- the mechanism --------------------------------------------------------------------------------
@dataclass
class _Inner:
    width: int = option(4, range=(1, 8))


@dataclass
class _Toy:
    rate: float = option(0.5, range=POSITIVE)
    share: float = option(0.2, range=FRACTION)
    n: int = option(1, range=COUNT)
    mode: str = option("a", choices=("a", "b"))
    sizes: tuple[int, ...] = option((1,), range=(1, 3))
    maybe: float | None = option(None, range=Range(0, 1, hi_open=True))
    inner: _Inner = field(default_factory=_Inner)


def test_from_dict_checks_every_kind_of_field():
    toy = from_dict(_Toy, {"rate": 2, "sizes": [1, 3], "maybe": 0.5, "inner": {"width": 8}})
    assert toy.rate == 2 and toy.sizes == [1, 3] and toy.inner.width == 8
    assert from_dict(_Toy, {"inner": None}).inner == _Inner()
    for values, says in [
        ({"rate": 0}, "rate must be > 0"),
        ({"n": True}, "n must be an integer"),
        ({"mode": "c"}, "mode must be one of 'a', 'b'"),
        ({"sizes": [1, 4]}, "sizes[1] must be in [1, 3]"),
        ({"sizes": 2}, "sizes must be a list"),
        ({"maybe": 1.0}, "maybe must be in [0, 1)"),
        ({"inner": {"width": 9}}, "inner.width must be in [1, 8]"),
    ]:
        with pytest.raises(ConfigError, match=r"^where: ") as exc:
            from_dict(_Toy, values, where="where")
        assert says in str(exc.value), (values, str(exc.value))


def test_limits_table_lists_declared_limits():
    rows = {name: (tp, lim) for name, tp, lim in limits(_Toy)}
    assert rows["rate"] == ("float", "> 0") and rows["share"] == ("float", "in [0, 1]") and rows["n"] == ("int", "≥ 1")
    assert rows["mode"] == ("str", "one of a, b") and rows["inner.width"] == ("int", "in [1, 8]")
    assert rows["maybe"] == ("float | None", "in [0, 1)")
    from stygaze.stygazetalk.train_generator import GeneratorRunConfig

    names = {r[0] for r in limits(GeneratorRunConfig)}
    assert {"generator.hidden", "generator.M", "generator_train.lr", "style_train.batch_size"} <= names


def test_load_config_without_a_file_gives_defaults():
    assert load_config(_Toy, None) == _Toy()
    assert load_config(_Toy, None, overrides={"n": 3, "rate": None}).n == 3


def test_docs_list_the_declared_limits():
    from stygaze.config import limits_markdown
    from stygaze.cvae.train import CVAETrainConfig
    from stygaze.omnihead.config import OmniHeadConfig
    from stygaze.omnihead.train import OmniHeadTrainConfig
    from stygaze.stygazetalk.train_generator import GeneratorRunConfig

    table = limits_markdown({"StyGazeTalk": GeneratorRunConfig, "cVAE": CVAETrainConfig, "OmniHead": OmniHeadTrainConfig, "OmniHead model": OmniHeadConfig})
    assert table in (REPO / "docs" / "training.md").read_text(), "docs/training.md: regenerate the limits table with stygaze.config.limits_markdown"
