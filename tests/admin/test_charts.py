"""Server-drawn line charts: the axis, the points and the labels."""

import pytest

from wagtail_preferences.admin.charts import HEIGHT, MARGIN, X_LABELS, LineChart, Series


def chart(*values, labels=None):
    labels = labels or [str(n) for n in range(len(values[0]))]
    return LineChart("T", "D", labels, [Series(f"s{n}", list(v)) for n, v in enumerate(values)])


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (12, [0, 5, 10, 15]),
        (42, [0, 10, 20, 30, 40, 50]),
        (101, [0, 25, 50, 75, 100, 125]),
    ],
)
def test_the_y_axis_ends_on_a_round_number_at_or_above_the_highest(highest, ticks):
    assert [value for _y, value in chart([0, highest]).y_ticks()] == ticks


def test_points_sit_on_the_axis():
    drawn = chart([0, 5, 10], [10, 0, 0]).lines()
    _left, top, _right, bottom = MARGIN
    assert [len(line["points"]) for line in drawn] == [3, 3]
    first = drawn[0]["points"]
    assert (first[0].y, first[2].y) == (HEIGHT - bottom, top)
    assert drawn[0]["polyline"].count(",") == 3
    assert [line["style"] for line in drawn] == [1, 2]


def test_at_most_so_many_x_labels_the_first_and_the_last_among_them():
    labels = [f"h{n}" for n in range(48)]
    shown = [label for _x, label in chart([0] * 48, labels=labels).x_ticks()]
    assert len(shown) <= X_LABELS
    assert (shown[0], shown[-1]) == ("h0", "h47")


def test_one_point_is_drawn_in_the_middle():
    (point,) = chart([4]).lines()[0]["points"]
    left, _top, right, _bottom = MARGIN
    assert point.x == pytest.approx(left + (720 - left - right) / 2, abs=0.1)
