"""The LSTM and GRU cell pictures of rnnbook.plots: what they highlight, and their labels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook import cell_diagrams, plots  # noqa: E402

ACCENT = mcolors.to_rgba(cell_diagrams.ACCENT)


def _accented(fig):
    """Artists drawn in the highlight colour (lines, node and box edges, texts)."""
    ax = fig.axes[0]
    found = []
    for patch in ax.patches:
        if mcolors.to_rgba(patch.get_edgecolor()) == ACCENT:
            found.append(patch)
    found += [t for t in ax.texts if mcolors.to_rgba(t.get_color()) == ACCENT]
    return found


def _texts(fig):
    return {t.get_text() for t in fig.axes[0].texts}


@pytest.mark.parametrize("draw, parts", [(plots.lstm_cell_diagram, cell_diagrams.LSTM_PARTS),
                                         (plots.gru_cell_diagram, cell_diagrams.GRU_PARTS)])
def test_the_whole_cell_has_no_highlight_and_each_part_has_one(draw, parts):
    whole = draw()
    assert _accented(whole) == [] and whole.axes[0].get_title() == ""
    counts = {}
    for part in parts:
        fig = draw(part)
        counts[part] = len(_accented(fig))
        assert counts[part] > 0, part
        equations = cell_diagrams.LSTM_EQUATIONS if draw is plots.lstm_cell_diagram else cell_diagrams.GRU_EQUATIONS
        assert fig.axes[0].get_title() == equations[part]
        plt.close(fig)
    plt.close(whole)
    # the parts are different pictures, not the same one recoloured whole
    assert len(set(counts.values())) > 1


def test_lstm_labels_carry_the_notes_symbols_and_pytorchs_names():
    fig = plots.lstm_cell_diagram()
    texts = _texts(fig)
    for symbol in [r"$f_t$", r"$i_t$", r"$\tilde{C}_t$", r"$o_t$", r"$C_{t-1}$", r"$C_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$"]:
        assert symbol in texts
    assert {"f", "i", "g", "o"} <= texts  # PyTorch's gate names, i, f, g, o
    plt.close(fig)


def test_gru_labels_carry_the_notes_symbols_and_pytorchs_names():
    fig = plots.gru_cell_diagram()
    texts = _texts(fig)
    for symbol in [r"$r_t$", r"$z_t$", r"$\tilde{h}_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$"]:
        assert symbol in texts
    assert {"r", "z", "n"} <= texts
    plt.close(fig)


def test_cell_highlight_is_forget_and_cell_together():
    fig = plots.lstm_cell_diagram(("forget", "cell"))
    assert fig.axes[0].get_title() == ""  # two parts: no single equation to show
    assert len(_accented(fig)) > len(_accented(plots.lstm_cell_diagram("forget")))
    plt.close("all")


def test_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert plots.gru_cell_diagram(ax=ax) is fig
    plt.close(fig)


@pytest.mark.parametrize("bad", ["forgot", "", (), ("forget", "reset")])
def test_unknown_part_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="highlight must be None or one or more of"):
        plots.lstm_cell_diagram(bad)
    with pytest.raises(ValueError, match="for the GRU"):
        plots.gru_cell_diagram("forget")
