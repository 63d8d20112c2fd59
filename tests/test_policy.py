"""One mechanism for class weighting: active mechanisms reported, stacking refused unless opted in."""
import pytest

from brr_lab.weighting.policy import StackedWeightingError, resolve_weighting

PI = 1 / 13


def test_single_mechanisms_pass_and_are_reported():
    assert resolve_weighting(pos_weight=12, prevalence=PI).active_names == ["pos_weight"]
    assert resolve_weighting(alpha=0.25).active_names == ["alpha"]
    setup = resolve_weighting(alpha=0.5, sampler_fraction=0.5, prevalence=PI)
    assert setup.active_names == ["sampler"]
    assert [m.name for m in setup.mechanisms] == ["alpha", "sampler"]  # alpha=0.5 kept, shown neutral
    assert "neutral" in setup.summary()


def test_nothing_configured_is_no_mechanism():
    setup = resolve_weighting()
    assert setup.active_names == [] and not setup.stacked
    assert setup.q_star == pytest.approx(0.5)


def test_postmortem_bug_is_refused_with_effective_ratio():
    with pytest.raises(StackedWeightingError) as err:
        resolve_weighting(alpha=0.25, pos_weight=12, prevalence=PI)
    msg = str(err.value)
    assert "4:1" in msg and "alpha=0.25" in msg and "pos_weight=12" in msg and "allow_stacked" in msg


def test_postmortem_fix_with_sampler_is_refused_with_144():
    with pytest.raises(StackedWeightingError, match=r"144:1"):
        resolve_weighting(alpha=0.5, pos_weight=12, sampler_fraction=0.5, prevalence=PI)


def test_opt_in_keeps_every_setting_and_warns():
    setup = resolve_weighting(alpha=0.5, pos_weight=12, sampler_fraction=0.5, prevalence=PI,
                              allow_stacked=True)
    assert setup.stacked and setup.active_names == ["pos_weight", "sampler"]
    assert setup.pos_weight == 12 and setup.alpha == 0.5 and setup.sampler_fraction == 0.5
    assert setup.effective_ratio == pytest.approx(144)
    assert any("over-correction" in w for w in setup.warnings)
    assert "STACKED" in setup.summary()


def test_under_correction_and_alpha_warnings():
    setup = resolve_weighting(alpha=0.25, pos_weight=12, prevalence=PI, allow_stacked=True)
    assert any("down-weights" in w for w in setup.warnings)
    assert any("partial correction" in w and "3x" in w for w in setup.warnings)


def test_sampler_at_natural_prevalence_is_neutral():
    setup = resolve_weighting(pos_weight=12, sampler_fraction=PI, prevalence=PI)
    assert setup.active_names == ["pos_weight"]


def test_sampler_needs_prevalence():
    with pytest.raises(ValueError, match="'prevalence'.*sampler"):
        resolve_weighting(sampler_fraction=0.5)


@pytest.mark.parametrize("kwargs,param", [
    (dict(alpha=1.5), "alpha"), (dict(gamma=-1), "gamma"), (dict(pos_weight=0), "pos_weight"),
    (dict(sampler_fraction=1.0, prevalence=PI), "sampler_fraction"), (dict(prevalence=0.0), "prevalence"),
])
def test_bad_values(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        resolve_weighting(**kwargs)


def test_alpha_zero_is_the_extreme_partial_correction_and_says_so():
    setup = resolve_weighting(alpha=0.0, gamma=0.0, prevalence=1 / 13)
    assert "positives no weight at all" in setup.warning("partial-correction")
