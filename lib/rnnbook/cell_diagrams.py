"""Pictures of the LSTM cell and the GRU cell, gate by gate (drawn with matplotlib).

Each picture labels every quantity twice: with the notes' symbol (``f_t``, ``C̃_t``,
``h̃_t``) and with PyTorch's name for it (gates ``i, f, g, o`` for the LSTM,
``r, z, n`` for the GRU). ``highlight`` draws one part in colour and greys out the
rest, and puts that part's equation above the cell, as Olah's blog post does one
gate at a time. :mod:`rnnbook.plots` re-exports the two public functions.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# Okabe–Ito colours: distinguishable with colour-blindness, dark enough on white.
INK = "#222222"
DIM = "#c4c4c4"
ACCENT = "#d55e00"
GATE_FILL = "#fbe8b5"
TORCH_INK = "#0060a0"  # PyTorch's names
CELL_FILL = "#eef3fa"

LSTM_PARTS = ("forget", "input", "candidate", "cell", "output", "hidden")
GRU_PARTS = ("reset", "update", "candidate", "hidden")

LSTM_EQUATIONS = {
    "forget": r"$f_t = \sigma(W_f\,[h_{t-1}, x_t] + b_f)$",
    "input": r"$i_t = \sigma(W_i\,[h_{t-1}, x_t] + b_i)$",
    "candidate": r"$\tilde{C}_t = \tanh(W_C\,[h_{t-1}, x_t] + b_C)$",
    "cell": r"$C_t = f_t \odot C_{t-1} + i_t \odot \tilde{C}_t$",
    "output": r"$o_t = \sigma(W_o\,[h_{t-1}, x_t] + b_o)$",
    "hidden": r"$h_t = o_t \odot \tanh(C_t)$",
}

GRU_EQUATIONS = {
    "reset": r"$r_t = \sigma(W_r\,[h_{t-1}, x_t] + b_r)$",
    "update": r"$z_t = \sigma(W_z\,[h_{t-1}, x_t] + b_z)$",
    "candidate": r"$\tilde{h}_t = \tanh(W_h\,[r_t \odot h_{t-1}, x_t] + b_h)$",
    "hidden": r"$h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t$",
}


def _parts(highlight, allowed, name):
    """The set of highlighted parts: None → every part is drawn in full colour."""
    if highlight is None:
        return None
    chosen = (highlight,) if isinstance(highlight, str) else tuple(highlight)
    unknown = [h for h in chosen if h not in allowed]
    if not chosen or unknown:
        raise ValueError(f"highlight must be None or one or more of {allowed} for the {name}; got {highlight!r}")
    return set(chosen)


class _Canvas:
    """Draws lines, gate boxes and pointwise nodes; a part is coloured when it is highlighted."""

    def __init__(self, ax, parts):
        self.ax, self.parts = ax, parts

    def _on(self, group):
        if self.parts is None:
            return True
        groups = (group,) if isinstance(group, str) else group
        return bool(self.parts.intersection(groups))

    def colour(self, group, base=INK):
        if self.parts is None:
            return base
        return ACCENT if self._on(group) else DIM

    def line(self, points, group, arrow=True, over=False):
        """A polyline; ``over=True`` draws it above the others with a white edge, where two lines cross."""
        colour = self.colour(group)
        width = 2.6 if (self.parts is not None and self._on(group)) else 1.6
        effects = [patheffects.withStroke(linewidth=width + 5, foreground=CELL_FILL)] if over else None
        for k, (a, b) in enumerate(zip(points[:-1], points[1:])):
            last = k == len(points) - 2
            style = "-|>" if (arrow and last) else "-"
            self.ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, color=colour,
                                              linewidth=width, shrinkA=0, shrinkB=0, zorder=2 if over else 1,
                                              path_effects=effects))

    def gate(self, xy, text, group, w=0.9, h=0.62):
        x, y = xy
        on = self._on(group)
        face = GATE_FILL if on else "#f4f4f4"
        edge = self.colour(group)
        self.ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                         facecolor=face, edgecolor=edge, linewidth=1.6, zorder=3))
        self.ax.text(x, y, text, ha="center", va="center", fontsize=12, color=INK if on else "#888888", zorder=4)

    def node(self, xy, text, group, r=0.3):
        on = self._on(group)
        self.ax.add_patch(Circle(xy, r, facecolor="white", edgecolor=self.colour(group), linewidth=1.6, zorder=3))
        self.ax.text(*xy, text, ha="center", va="center", fontsize=12 if len(text) < 3 else 10,
                     color=INK if on else "#888888", zorder=4)

    def label(self, xy, text, group, torch=None, ha="center", va="center", size=13):
        """The notes' symbol; PyTorch's name for it (``torch``) beneath, in monospace."""
        self.ax.text(*xy, text, ha=ha, va=va, fontsize=size, color=self.colour(group), zorder=5)
        if torch:
            self.ax.text(xy[0], xy[1] - 0.42, torch, ha=ha, va="center", fontsize=11,
                         color=TORCH_INK if self._on(group) else DIM, family="monospace", zorder=5)


def _cell_canvas(ax, parts):
    """The figure (6.4 × 3.9 inches: readable on a phone), a white background, and the cell's box."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.9), layout="constrained")
    else:
        fig = ax.figure
    fig.patch.set_facecolor("white")  # readable on the site's dark theme too
    ax.set_facecolor("white")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-0.3, 11.8)
    ax.set_ylim(-1.4, 6.2)
    ax.add_patch(FancyBboxPatch((1.0, 0.25), 9.4, 5.25, boxstyle="round,pad=0.1", facecolor=CELL_FILL,
                                edgecolor="#8da2c0", linewidth=1.2, zorder=0))
    return fig, ax, _Canvas(ax, parts)


def lstm_cell_diagram(highlight=None, ax=None):
    """Draw the LSTM cell of Section 2.1, gate by gate (a picture: it computes no equation).

    Parameters
    ----------
    highlight : None (the whole cell in colour), or one or more of ``"forget"``,
        ``"input"``, ``"candidate"``, ``"cell"``, ``"output"``, ``"hidden"``: that
        part in colour, the rest grey, and its equation as the title.
    ax : matplotlib Axes to draw on, or None for a new figure (6.4 × 3.9 inches, readable on a phone).

    Returns
    -------
    The matplotlib Figure.
    """
    parts = _parts(highlight, LSTM_PARTS, "LSTM")
    fig, ax, c = _cell_canvas(ax, parts)
    top, bottom, gates_y = 4.9, 1.0, 2.45
    x_f, x_i, x_g, x_o, x_h = 2.6, 4.3, 5.9, 7.6, 9.1
    # the cell state: C_{t-1} → × f_t → + i_t ⊙ C̃_t → C_t
    c.line([(0.0, top), (x_f - 0.3, top)], "cell", arrow=False)
    c.line([(x_f + 0.3, top), (5.1 - 0.3, top)], "cell", arrow=False)
    c.line([(5.1 + 0.3, top), (11.5, top)], ("cell", "hidden"))
    c.node((x_f, top), "×", ("forget", "cell"))
    c.node((5.1, top), "+", "cell")
    # [h_{t-1}, x_t] feeds all four gates
    c.line([(0.0, bottom), (x_o, bottom)], ("forget", "input", "candidate", "output"), arrow=False)
    c.line([(1.6, -0.35), (1.6, bottom)], ("forget", "input", "candidate", "output"), arrow=False)
    for x, group in [(x_f, "forget"), (x_i, "input"), (x_g, "candidate"), (x_o, "output")]:
        c.line([(x, bottom), (x, gates_y - 0.33)], group)
    c.gate((x_f, gates_y), "σ", "forget")
    c.gate((x_i, gates_y), "σ", "input")
    c.gate((x_g, gates_y), "tanh", "candidate")
    c.gate((x_o, gates_y), "σ", "output")
    # forget gate up to the × on the cell state
    c.line([(x_f, gates_y + 0.33), (x_f, top - 0.3)], "forget")
    # input gate and candidate meet in a ×, which goes up to the +
    x_m, y_m = 5.1, 3.7
    c.line([(x_i, gates_y + 0.33), (x_i, y_m), (x_m - 0.3, y_m)], ("input", "cell"))
    c.line([(x_g, gates_y + 0.33), (x_g, y_m), (x_m + 0.3, y_m)], ("candidate", "cell"))
    c.node((x_m, y_m), "×", ("input", "candidate", "cell"))
    c.line([(x_m, y_m + 0.3), (x_m, top - 0.3)], "cell")
    # output: o_t ⊙ tanh(C_t)
    y_t, y_x = 3.95, 2.95
    c.line([(x_h, top), (x_h, y_t + 0.3)], "hidden")
    c.node((x_h, y_t), "tanh", "hidden", r=0.36)
    c.line([(x_h, y_t - 0.36), (x_h, y_x + 0.3)], "hidden")
    c.line([(x_o, gates_y + 0.33), (x_o, y_x), (x_h - 0.3, y_x)], ("output", "hidden"))
    c.node((x_h, y_x), "×", ("output", "hidden"))
    c.line([(x_h, y_x - 0.3), (x_h, bottom), (11.5, bottom)], "hidden")
    # labels: the notes' symbol, and PyTorch's name in monospace beneath
    c.label((-0.05, top + 0.3), r"$C_{t-1}$", "cell", ha="left", va="bottom")
    c.label((11.5, top + 0.3), r"$C_t$", ("cell", "hidden"), ha="right", va="bottom")
    c.label((-0.05, bottom + 0.3), r"$h_{t-1}$", ("forget", "input", "candidate", "output"), ha="left", va="bottom")
    c.label((11.5, bottom + 0.3), r"$h_t$", "hidden", ha="right", va="bottom")
    c.label((1.6, -0.5), r"$x_t$", ("forget", "input", "candidate", "output"), va="top")
    c.label((x_f - 0.25, 3.55), r"$f_t$", "forget", torch="f", ha="right")
    c.label((x_i - 0.25, 3.25), r"$i_t$", "input", torch="i", ha="right")
    c.label((x_g + 0.25, 3.25), r"$\tilde{C}_t$", "candidate", torch="g", ha="left")
    c.label((x_o - 0.25, 3.55), r"$o_t$", "output", torch="o", ha="right")
    ax.text(11.5, -0.45, "blue: PyTorch's names (gates stacked i, f, g, o)", ha="right", va="top",
            fontsize=10, color=TORCH_INK)
    if parts is not None and len(parts) == 1:
        ax.set_title(LSTM_EQUATIONS[next(iter(parts))], fontsize=13, color=INK)
    return fig


def gru_cell_diagram(highlight=None, ax=None):
    """Draw the GRU cell of Section 3.1 in the notes' form, gate by gate (a picture: it computes no equation).

    The notes (after Chung et al. 2014) let ``z_t`` weigh the candidate:
    ``h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``. PyTorch calls the candidate ``n`` and lets
    ``z`` weigh ``h_{t-1}`` instead; the caption of the picture says so.

    Parameters
    ----------
    highlight : None, or one or more of ``"reset"``, ``"update"``, ``"candidate"``,
        ``"hidden"``: that part in colour, the rest grey, its equation as the title.
    ax : matplotlib Axes to draw on, or None for a new figure (6.4 × 3.9 inches, readable on a phone).

    Returns
    -------
    The matplotlib Figure.
    """
    parts = _parts(highlight, GRU_PARTS, "GRU")
    fig, ax, c = _cell_canvas(ax, parts)
    top, bottom, gates_y = 4.9, 1.0, 2.2
    x_r, x_z, x_n, x_keep, x_add = 2.7, 4.4, 7.2, 5.6, 8.7
    all_gates = ("reset", "update", "candidate")
    # the hidden state runs along the top: × (1 − z_t), then + z_t ⊙ h̃_t
    c.line([(0.0, top), (x_keep - 0.3, top)], "hidden", arrow=False)
    c.line([(x_keep + 0.3, top), (x_add - 0.3, top)], "hidden", arrow=False)
    c.line([(x_add + 0.3, top), (11.5, top)], "hidden")
    c.node((x_keep, top), "×", "hidden")
    c.node((x_add, top), "+", "hidden")
    # [h_{t-1}, x_t] feeds the gates; h_{t-1} comes down from the top line
    c.line([(1.3, top), (1.3, bottom)], all_gates, arrow=False)
    c.line([(1.3, bottom), (x_n, bottom)], all_gates, arrow=False)
    c.line([(1.9, -0.35), (1.9, bottom)], all_gates, arrow=False)
    c.line([(x_r, bottom), (x_r, gates_y - 0.33)], "reset")
    c.line([(x_z, bottom), (x_z, gates_y - 0.33)], "update")
    c.line([(x_n, bottom), (x_n, gates_y - 0.33)], "candidate")
    c.gate((x_r, gates_y), "σ", "reset")
    c.gate((x_z, gates_y), "σ", "update")
    c.gate((x_n, gates_y), "tanh", "candidate")
    # reset: r_t ⊙ h_{t-1} goes into the candidate
    y_r = 3.75
    c.line([(x_r, top), (x_r, y_r + 0.3)], ("reset", "candidate"))
    c.line([(x_r, gates_y + 0.33), (x_r, y_r - 0.3)], "reset")
    c.node((x_r, y_r), "×", ("reset", "candidate"))
    c.line([(x_r + 0.3, y_r), (6.5, y_r), (6.5, gates_y), (x_n - 0.48, gates_y)], ("reset", "candidate"))
    # update: 1 − z_t keeps the old state, z_t takes the candidate
    y_z = 3.5
    c.line([(x_z, gates_y + 0.33), (x_z, y_z), (x_keep - 0.32, y_z)], ("update", "hidden"))
    c.node((x_keep, y_z), "1−", ("update", "hidden"), r=0.32)
    c.line([(x_keep, y_z + 0.32), (x_keep, top - 0.3)], ("update", "hidden"))
    # z_t itself (not 1 − z_t) weighs the candidate: a branch before the 1− node, over the reset line
    c.line([(x_z, 2.85), (6.1, 2.85)], ("update", "hidden"), arrow=False)
    c.line([(6.1, 2.85), (6.1, 4.15)], ("update", "hidden"), arrow=False, over=True)
    c.line([(6.1, 4.15), (x_add - 0.28, 4.15)], ("update", "hidden"))
    c.node((x_add, 4.15), "×", ("update", "candidate", "hidden"), r=0.28)
    c.line([(x_n, gates_y + 0.33), (x_n, 3.45), (x_add, 3.45), (x_add, 4.15 - 0.28)], ("candidate", "hidden"))
    c.line([(x_add, 4.15 + 0.28), (x_add, top - 0.3)], "hidden")
    # labels
    c.label((-0.05, top + 0.3), r"$h_{t-1}$", "hidden", ha="left", va="bottom")
    c.label((11.5, top + 0.3), r"$h_t$", "hidden", ha="right", va="bottom")
    c.label((1.9, -0.5), r"$x_t$", all_gates, va="top")
    c.label((x_r - 0.25, 3.15), r"$r_t$", "reset", torch="r", ha="right")
    c.label((x_z - 0.25, 3.2), r"$z_t$", "update", torch="z", ha="right")
    c.label((x_n + 0.55, 2.85), r"$\tilde{h}_t$", "candidate", torch="n", ha="left")
    ax.text(11.5, -0.45, "The notes' form; blue: PyTorch's names.", ha="right", va="top", fontsize=10,
            color=TORCH_INK)
    ax.text(11.5, -0.95, r"PyTorch's z weighs $h_{t-1}$, not the candidate.", ha="right", va="top",
            fontsize=10, color=TORCH_INK)
    if parts is not None and len(parts) == 1:
        ax.set_title(GRU_EQUATIONS[next(iter(parts))], fontsize=13, color=INK)
    return fig
