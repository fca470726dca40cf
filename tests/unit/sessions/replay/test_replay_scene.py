"""Frame scenes: where overlays go for a time and a view (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from sessions.replay.data import TrialData, load_trial
from sessions.replay.scene import HeatmapCache, ReplayOptions, ViewTransform, build_scene, colourise
from sessions.store import SessionStore
from tests.support.replay_sessions import expected_view_point, make_session


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TrialData:
    folder = make_session(tmp_path_factory.mktemp("replay-scene"), n_trials=1)
    with SessionStore.open(folder) as store:
        return load_trial(store, 0)


def test_view_transform_round_trip_zoom_and_pan() -> None:
    v = ViewTransform(1920, 1080, 1000, 700)
    x, y = v.to_view(960.0, 540.0)
    assert (x, y) == pytest.approx((500.0, 350.0))
    v.zoom_at(3.0, 200.0, 100.0)
    wx, wy = v.to_world(200.0, 100.0)
    v2 = ViewTransform(1920, 1080, 1000, 700)
    assert (wx, wy) == pytest.approx(tuple(float(c) for c in v2.to_world(200.0, 100.0)))
    v.pan_by(30.0, -20.0)
    px, py = v.to_view(wx, wy)
    assert (px, py) == pytest.approx((230.0, 80.0))
    bx, by = v.to_world(*v.to_view(123.4, 567.8))
    assert (bx, by) == pytest.approx((123.4, 567.8))
    v.reset()
    assert v.zoom == 1.0 and (v.cx, v.cy) == (960.0, 540.0)
    with pytest.raises(ValueError, match="positive"):
        ViewTransform(0, 1080, 10, 10)


def test_gaze_point_is_the_sample_through_layout_and_view(data: TrialData) -> None:
    t = data.t_onset + 0.7
    i = data.sample_index(t)
    v = ViewTransform(*data.screen_size, 900, 600)
    sc = build_scene(data, t, v, ReplayOptions(trail_s=0.5))
    lay = data.layout
    # the recorded sample, normalised -> image px -> screen px (the stored layout), then the view
    ix, iy = lay.normalised_to_image(
        data.left[i, 0] / lay.screen_width, data.left[i, 1] / lay.screen_height
    )
    sx, sy = lay.image_to_screen(ix, iy)
    assert sc.gaze_left == pytest.approx(
        expected_view_point(float(sx), float(sy), data.screen_size, (900, 600))
    )
    n_in = int(np.sum((data.t >= t - 0.5) & (data.t <= t)))
    assert 2 <= sc.trail_left.shape[0] <= n_in  # samples in the same half-pixel are merged
    assert tuple(sc.trail_left[-1]) == pytest.approx(sc.gaze_left)
    first = data.left[int(np.searchsorted(data.t, t - 0.5))]
    assert tuple(sc.trail_left[0]) == pytest.approx(tuple(float(c) for c in v.to_view(*first)))
    assert sc.image_phase == "shown"


def test_zoom_moves_drawing_not_data(data: TrialData) -> None:
    before = data.left.copy(), data.fixations.copy()
    v = ViewTransform(*data.screen_size, 900, 600)
    v.zoom_at(4.0, 100.0, 500.0)
    v.pan_by(-50, 20)
    t = data.t_offset
    sc = build_scene(data, t, v)
    np.testing.assert_array_equal(data.left, before[0])
    np.testing.assert_array_equal(data.fixations, before[1])
    f = data.fixations[0]
    assert (sc.fixations[0].x, sc.fixations[0].y) == pytest.approx(
        expected_view_point(f["x"], f["y"], data.screen_size, (900, 600), 4.0, (v.cx, v.cy))
    )


def test_fixations_are_numbered_in_order_and_grow_while_under_way(data: TrialData) -> None:
    fx = data.fixations
    v = ViewTransform(*data.screen_size, 900, 600)
    t = float(fx["t_start"][2] + 0.05)
    sc = build_scene(data, t, v)
    assert [m.number for m in sc.fixations] == [1, 2, 3]
    assert [m.current for m in sc.fixations] == [False, False, True]
    assert sc.fixations[2].duration_ms == pytest.approx(50.0)
    assert build_scene(data, t, v, ReplayOptions(show_fixations=False)).fixations == []
    assert [
        m.number for m in build_scene(data, t, v, ReplayOptions(last_fixations=2)).fixations
    ] == [2, 3]
    before = build_scene(data, data.t0, v)
    assert before.fixations == [] and before.image_phase == "before"
    assert "before image onset" in before.notes[0]


def test_heatmap_is_cached_until_the_fixations_change(data: TrialData) -> None:
    cache = HeatmapCache(max_side=64)
    opts = ReplayOptions(show_heatmap=True)
    t = float(data.fixations["t_end"][3]) + 1e-4
    a = cache.get(data, t, opts)
    assert a is not None and a.shape[2] == 4 and a[..., 3].max() > 0
    assert cache.get(data, t + 1e-4, opts) is a
    assert cache.get(data, float(data.fixations["t_end"][5]), opts) is not a
    assert cache.get(data, data.t0, opts) is None
    # the hottest cell is under a fixation
    hy, hx = np.unravel_index(np.argmax(a[..., 3].astype(int) * 1000 + a[..., 0]), a.shape[:2])
    assert a[hy, hx, 3] > 0


def test_colourise_is_clear_where_there_is_nothing() -> None:
    m = np.zeros((4, 4))
    assert colourise(m)[..., 3].max() == 0
    m[1, 1] = 1.0
    c = colourise(m)
    assert c[1, 1, 3] > 0 and c[3, 3, 3] == 0


def test_incremental_heatmap_equals_the_direct_density_map(data: TrialData) -> None:
    from sessions.metrics.maps import fixation_density_map

    cache = HeatmapCache(max_side=64, step=2)
    opts = ReplayOptions(show_heatmap=True)
    fx = data.fixations
    lay = data.layout
    g = max(lay.image_width, lay.image_height) / 64
    for t in (float(fx["t_start"][4]) + 0.05, float(fx["t_end"][2]) + 1e-4, float(fx["t_end"][-1])):
        k = int(np.searchsorted(fx["t_start"], t, side="right"))
        ix, iy = lay.screen_to_image(fx["x"][:k], fx["y"][:k])
        dur = (np.minimum(fx["t_end"][:k], t) - fx["t_start"][:k]) * 1000.0
        sig = (data.px_per_degree[0] / lay.scale / g, data.px_per_degree[1] / lay.scale / g)
        direct = fixation_density_map(ix / g, iy / g, dur, (64, 64), sig, normalise=False)
        got = cache.density(data, t, opts)
        assert got is not None
        np.testing.assert_allclose(got, direct, rtol=1e-9, atol=1e-12 * direct.max())


def test_a_trial_without_samples_still_draws(data: TrialData) -> None:
    import dataclasses

    empty = dataclasses.replace(
        data,
        t=np.empty(0),
        left=np.empty((0, 2)),
        right=np.empty((0, 2)),
        fixations=data.fixations[:0],
    )
    sc = build_scene(
        empty,
        data.t_onset + 0.5,
        ViewTransform(*data.screen_size, 640, 400),
        ReplayOptions(show_heatmap=True),
        HeatmapCache(),
    )
    assert sc.gaze_left is None and sc.trail_left.shape == (0, 2) and sc.fixations == []
    assert sc.heatmap is None
    assert any("no gaze samples" in n for n in sc.notes)


def test_number_labels_never_overlap_and_the_newest_are_kept() -> None:
    from sessions.replay.scene import place_labels

    # ten fixations on nearly one spot, as a reader dwelling on a nodule
    pts = [(100.0 + 0.5 * k, 100.0 + 0.3 * k) for k in range(10)]
    spots = place_labels(pts, (16.0, 12.0))
    boxes = [(x - 8, y - 6, x + 8, y + 6) for x, y in (s for s in spots if s is not None)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or a[0] >= b[2] or a[3] <= b[1] or a[1] >= b[3]
    assert spots[-1] == pts[-1]  # the newest sits on its fixation
    assert all(s is not None for s in spots[-5:]) and None in spots  # old ones give way
    # far apart: every label on its own fixation
    far = [(50.0 * k, 0.0) for k in range(5)]
    assert place_labels(far, (16.0, 12.0)) == far
