"""The paired rule every decision of ``python -m nas.scale`` rests on, and the sentence it becomes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.scale import Verdict, decide, paired, phi_sentence, training_seed
from nas.stats import spread


def test_differences_that_straddle_zero_are_a_tie() -> None:
    c = paired({0: 0.80, 1: 0.82, 2: 0.79}, {0: 0.81, 1: 0.80, 2: 0.78})  # +0.01 on average, -0.01 once
    assert c is not None and c.verdict is Verdict.TIE
    assert c.low is not None and c.high is not None and c.low < 0 < c.high
    assert c.mean == pytest.approx(0.02 / 3)


def test_differences_all_clearly_positive_are_a_win_and_reversed_a_loss() -> None:
    a, b = {0: 0.90, 1: 0.91, 2: 0.92}, {0: 0.80, 1: 0.82, 2: 0.81}
    win, loss = paired(a, b), paired(b, a)
    assert win is not None and win.verdict is Verdict.WIN and win.low is not None and win.low > 0
    assert loss is not None and loss.verdict is Verdict.LOSS


def test_the_interval_is_students_t_at_95_percent_over_the_common_seeds() -> None:
    c = paired({0: 0.5, 1: 0.7, 2: 0.6, 5: 0.1}, {0: 0.4, 1: 0.5, 2: 0.6})  # seed 5: no partner
    assert c is not None and c.n == 3
    differences = [0.1, 0.2, 0.0]
    sd = math.sqrt(sum((d - 0.1) ** 2 for d in differences) / 2)
    half = 4.302652729911275 * sd / math.sqrt(3)  # t(0.975, 2 degrees of freedom)
    assert (c.low, c.high) == (pytest.approx(0.1 - half), pytest.approx(0.1 + half))
    assert "95% CI" in c.text() and "n=3" in c.text()


def test_one_seed_gives_no_interval_and_no_seed_in_common_nothing() -> None:
    one = paired({0: 0.9}, {0: 0.1})
    assert one is not None and one.verdict is Verdict.ONE_SEED and one.low is None
    assert "one seed: no interval" in one.text()
    assert paired({0: 0.9}, {1: 0.8}) is None


def test_spread_is_mean_and_sample_std() -> None:
    s = spread([0.8, 0.9, 1.0])
    assert (s.n, s.mean, s.std) == (3, pytest.approx(0.9), pytest.approx(0.1))
    assert s.text() == "0.9000 ± 0.1000 (n=3)"
    assert spread([0.5]).text() == "0.5000 (n=1)"
    with pytest.raises(ValueError):
        spread([])


CLEAR = {0: 0.10, 1: 0.11, 2: 0.10}  # added to a base accuracy: clearly better at every seed
BASE = {0: 0.70, 1: 0.75, 2: 0.72}


def shifted(by: dict[int, float]) -> dict[int, float]:
    return {k: BASE[k] + by[k] for k in BASE}


def test_the_sentence_names_a_compound_win_with_its_margins() -> None:
    text = phi_sentence(1, {"compound": shifted(CLEAR), "width": BASE, "depth": BASE, "resolution": BASE})
    assert text.startswith("φ = 1: compound scaling won, ahead of width by +0.1033 [95% CI")
    assert "tie" not in text and text.count(".") >= 1 and "\n" not in text


def test_the_sentence_says_plainly_when_compound_did_not_win() -> None:
    text = phi_sentence(2, {"compound": BASE, "width": BASE, "depth": BASE, "resolution": shifted(CLEAR)})
    assert text.startswith("φ = 2: compound scaling did not win: resolution scaling won, ahead of compound")


def test_the_sentence_calls_a_tie_a_tie() -> None:
    noisy = {0: 0.72, 1: 0.73, 2: 0.71}  # against BASE: +0.02, -0.02, -0.01
    text = phi_sentence(1, {"compound": noisy, "width": BASE, "depth": {0: 0.1, 1: 0.1, 2: 0.1}})
    assert "tie" in text and "no scaling won" in text


def test_with_one_seed_no_winner_is_claimed() -> None:
    text = phi_sentence(1, {"compound": {0: 0.9}, "width": {0: 0.8}})
    assert "one seed: no interval" in text and "no winner is claimed" in text


def test_training_seeds_are_stable_distinct_per_index_and_study() -> None:
    seeds = {training_seed(0, study, k) for study in ("grid", "family") for k in range(3)}
    assert len(seeds) == 6 and all(2**20 <= s < 2**31 for s in seeds)
    assert training_seed(0, "grid", 1) == training_seed(0, "grid", 1) != training_seed(1, "grid", 1)


def test_equal_means_go_to_the_first_in_order_even_when_float32_sums_differ() -> None:
    from nas.stats import first_best

    acc = {k: float(np.float32(k / 24)) for k in (1, 2, 3)}  # accuracies as Lightning logs them
    uneven = (acc[1] + acc[3]) / 2  # the same mean as acc[2]'s, summed otherwise
    assert uneven < acc[2]
    assert first_best(["first", "second"], {"first": uneven, "second": acc[2]}) == "first"
    assert first_best(["a", "b"], {"a": 0.5, "b": 0.5}) == "a"
    assert first_best(["a", "b"], {"a": 0.50, "b": 0.51}) == "b"


def test_equal_accuracies_in_float32_noise_are_a_tie_not_a_loss() -> None:
    acc = {k: float(np.float32(k / 24)) for k in (1, 2, 3)}
    uneven = (acc[1] + acc[3]) / 2  # below acc[2] by about 1e-8
    c = paired({0: uneven, 1: uneven}, {0: acc[2], 1: acc[2]})
    assert c is not None and c.verdict is Verdict.TIE and c.text().startswith("+0.0000 [95% CI +0.0000")


def test_a_decision_names_a_winner_only_when_every_interval_excludes_zero() -> None:
    clear = decide({"compound": shifted(CLEAR), "width": BASE, "resolution": BASE})
    assert (clear.best, clear.winner, clear.decided) == ("compound", "compound", True)
    lost = decide({"compound": BASE, "width": BASE, "resolution": shifted(CLEAR)})
    assert (lost.best, lost.winner) == ("resolution", "resolution")
    noisy = decide({"compound": {0: 0.72, 1: 0.73, 2: 0.71}, "width": BASE, "depth": shifted(CLEAR)})
    assert noisy.best == "depth" and noisy.winner == "depth"  # ahead of both, clearly
    tie = decide({"compound": {0: 0.72, 1: 0.73, 2: 0.71}, "width": BASE})
    assert tie.best == "width" and tie.decided and tie.winner is None
    assert tie.versus["compound"].verdict is Verdict.TIE
    one = decide({"compound": {0: 0.9}, "width": {0: 0.8}})
    assert (one.best, one.decided, one.winner) == ("compound", False, None)
    assert decide({"width": BASE}).best is None
    # failed seeds: the best mean over all seeds trails on the seeds both finished
    contested = decide({"compound": {0: 0.99, 1: 0.72, 2: 0.74}, "width": {1: 0.80, 2: 0.81}})
    assert contested.best == "compound" and contested.contested and contested.winner is None
    # what a winner or a tie can be read from: none of the last three
    assert [d.conclusive for d in (clear, tie, one, decide({"width": BASE}), contested)] == [
        True, True, False, False, False,
    ]  # fmt: skip
