"""Run one reading session: the state machine, the window, the pipeline and the store together.

:class:`SessionRunner` is what ``gazeread run`` and ``gazeread demo`` call after preflight.
It opens (or resumes) the session store, starts the acquisition pipeline, opens the PsychoPy
window, then executes the steps of
:class:`~experiment_protocols.state_machine.SessionStateMachine` one by one, recording
every onset at its flip time (store + LSL Markers), every response (committed and synced
before the next trial), frame intervals per trial, calibrations and drift checks. It always
shuts down cleanly: on completion, on "End and save" in the pause menu, on a tracker that
stops delivering, on a recorder write error and on any exception, and it says which.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

from acquisition.clock import session_clock
from acquisition.trackers import TrackerError, options_with_screen
from experiment_protocols.forms import FormState
from experiment_protocols.loader import parse_protocol
from experiment_protocols.model import Condition
from experiment_protocols.schedule import PlannedTrial, Schedule, build_schedule
from experiment_protocols.state_machine import SessionStateMachine, State, Step
from sessions.run.config import RunConfig, RunResult, SessionAbort
from sessions.run.stop_signals import SessionInterrupted
from sessions.run.store_setup import create_store, planned_from_store, store_trials
from sessions.store import SessionStore, StoreError
from stimuli.layout import ImageLayout, fit_image

__all__ = ["SessionRunner"]


class SessionRunner:
    """Runs one session from a :class:`RunConfig`; call :meth:`run`."""

    def __init__(self, config: RunConfig) -> None:
        self.cfg = config
        self.protocol = config.protocol.protocol
        self.store: SessionStore | None = None
        self.pipeline: Any = None
        self.presenter: Any = None
        self.sm: SessionStateMachine | None = None
        self.schedule: Schedule | None = None
        self._t_last_response = math.nan
        self._calibration_history: Any = None
        self._abort: str | None = None
        self._stored_attempts: dict[int, int] = {}
        self.resume_info: dict[str, Any] = {}
        self.preloader: Any = None
        #: the stop signal that ended the run, if one did
        self.interrupted_by: SessionInterrupted | None = None

    # ------------------------------------------------------------------ store
    def _open_store(self) -> tuple[SessionStore, list[PlannedTrial], set[int]]:
        cfg, p = self.cfg, self.protocol
        if cfg.resume:
            store = SessionStore.open_for_resume(cfg.folder)
            info = store.session_info()
            # The stored protocol is the one in force (the file may have changed since).
            text = info.get("protocol_text") or cfg.protocol.text
            self.protocol = parse_protocol(text, source=f"{cfg.folder} (stored protocol)")
            self.resume_info = store.mark_interrupted(session_clock())
            trials = planned_from_store(store)
            rows = store.trials()
            done = {int(t["id"]) for t in rows if t["status"] in ("complete", "skipped")}
            self._stored_attempts = {int(t["id"]): int(t["attempt"] or 0) for t in rows}
            self.schedule = Schedule(tuple(trials), int(info.get("seed") or 0), (), 0)
            cfg.log(
                f"resuming: {len(done)} of {len(trials)} trials complete; next trial "
                f"{self.resume_info.get('next_trial')}; recalibrating first"
            )
            return store, trials, done
        sched = build_schedule(p, cfg.stimuli, cfg.participant, cfg.session, seed=cfg.seed)
        self.schedule = sched
        store = create_store(cfg, p, sched)
        store.add_trials(t.to_row() for t in sched.trials)
        store.sync()
        return store, list(sched.trials), set()

    # ------------------------------------------------------------------ images
    def _window_for(self, trial: PlannedTrial) -> tuple[float, float] | None:
        return self.cfg.windows.get(trial.image_id)

    def _preload(self, trial: PlannedTrial | None) -> None:
        if trial is None or self.preloader is None:
            return
        self.preloader.request(trial.image_path, trial.image_path, self._window_for(trial))

    def _image(self, trial: PlannedTrial) -> Any:
        """The prepared image (loaded, laid out and resampled in the preloader's thread)."""
        return self.preloader.get(
            trial.image_path, trial.image_path, self._window_for(trial), timeout=60.0
        )

    def _upcoming(self, after: int) -> PlannedTrial | None:
        sm = self.sm
        if sm is None:
            return None
        for t in sm._todo[sm._pos + after : sm._pos + after + 1]:
            return t
        return None

    # ------------------------------------------------------------------ helpers
    def _check(self, _t: float = 0.0) -> None:
        if self.pipeline is None:
            return
        problem = self.pipeline.health()
        if problem:
            raise SessionAbort(problem)

    def _marker(
        self, t: float, kind: str, trial: PlannedTrial | None = None, message: str = "", **data: Any
    ) -> None:
        self.pipeline.marker(t, kind, trial.index if trial else None, message, **data)

    @property
    def _tracker(self) -> Any:
        return self.pipeline.tracker

    def _reader_gaze(self, x: float, y: float) -> None:
        if self.cfg.reader is not None and hasattr(self._tracker, "set_target"):
            self._tracker.set_target(float(x), float(y))

    # ------------------------------------------------------------------ steps
    def _welcome(self, step: Step) -> None:
        p = self.presenter
        sm = self.sm
        if sm is not None and sm.resumed:
            body = (
                f"This session was interrupted. {len(sm.completed)} of {len(sm.schedule.trials)} trials "
                "are saved.\n\nWe will recalibrate, then continue with the next image."
            )
            title = "Welcome back"
        else:
            title, body = self.protocol.study, self.protocol.welcome
        key, _ = p.show_text(
            title, body, "Press SPACE to begin", timeout_s=1.5 if self.cfg.auto_respond else None
        )
        if key == "escape":
            sm.pause() if sm else None
            return
        sm.advance() if sm else None

    def _calibrate(self, step: Step) -> None:
        from experiment_protocols.calibration_screen import run_session_calibration

        sm = self.sm
        t = session_clock()
        self._marker(t, "calibration_start", step.trial, reason=step.reason)
        outcome = run_session_calibration(self, step.reason)
        off = self.presenter.measure_clock_offset()  # re-measured and stored at every calibration
        if self.store is not None:
            self.store.add_clock_offset(off.t_session, "psychopy", off.offset_s, off.uncertainty_s)
        t = session_clock()
        self._marker(
            t,
            "calibration",
            step.trial,
            outcome.get("message", ""),
            accuracy_deg=outcome.get("accuracy_deg"),
            passed=outcome.get("passed"),
            accepted=outcome.get("accepted"),
            reason=step.reason,
        )
        if outcome.get("escaped") and sm is not None:
            sm.pause()
            return
        sm.advance() if sm else None

    def _instructions(self, step: Step) -> None:
        trial = step.trial
        sm = self.sm
        if trial is None or sm is None:
            return
        block = next(b for b in self.protocol.blocks if b.name == trial.block)
        conds: list[Condition] = [self.protocol.conditions[c] for c in block.conditions]
        body = "\n\n".join(c.instructions.strip() for c in conds)
        lines = body.splitlines()
        title = lines[0] if lines and lines[0].isupper() else block.name.capitalize()
        rest = "\n".join(lines[1:]).strip() if lines and lines[0].isupper() else body
        self._preload(trial)
        key, t = self.presenter.show_text(
            title, rest, "Press SPACE to start", timeout_s=1.5 if self.cfg.auto_respond else None
        )
        self._marker(t, "instructions", trial, block=trial.block)
        if key == "escape":
            sm.pause()
        else:
            sm.advance()

    def _break(self, step: Step) -> None:
        from experiment_protocols.pause_screen import break_screen

        sm = self.sm
        if sm is None:
            return
        t = session_clock()
        self._marker(t, "break_start", step.trial, reason=step.reason)
        r = break_screen(
            self.presenter,
            step.reason,
            len(sm.completed),
            len(sm.schedule.trials),
            self.protocol.breaks.min_duration_s,
            auto=self.cfg.auto_respond,
        )
        self._marker(session_clock(), "break_end", step.trial)
        sm.pause() if r == "escape" else sm.advance()

    def _pre_trial(self, step: Step) -> None:
        sm, trial, p = self.sm, step.trial, self.presenter
        if sm is None or trial is None:
            return
        self._preload(trial)
        timing = self.protocol.timing
        if self.store is not None:
            # Where the trial starts (drift check or fixation cross): replay and check use it.
            self.store.update_trial(trial.index, t_start=session_clock())
        if timing.pre_trial == "fixation_cross":
            self._reader_gaze(0.5, 0.5)
            t0, escaped = p.blank(timing.fixation_s, [p.fixation_cross()])
            self._marker(t0, "fixation_cross", trial)
            if escaped:
                sm.pause()
            else:
                sm.advance()
            return
        from experiment_protocols.calibration_screen import run_drift_check

        res = run_drift_check(self, trial)
        self.store_calibration(res.to_store_kwargs())
        self._marker(
            res.t if math.isfinite(res.t) else session_clock(),
            "drift_check",
            trial,
            res.message,
            passed=res.passed,
            offset_deg=None if not math.isfinite(res.offset_deg) else res.offset_deg,
            attempt=step.attempt,
        )
        if res.action == "abort":
            sm.pause()
        elif res.passed:
            sm.advance()
        else:
            sm.drift_failed()

    def store_calibration(self, kwargs: dict[str, Any]) -> int:
        """Add one calibration/validation/drift-check row to the store."""
        if self.store is None:
            raise RuntimeError("store_calibration called before the session store was opened")
        kw = dict(kwargs)
        return self.store.add_calibration(kw.pop("t"), kw.pop("kind"), kw.pop("method"), **kw)

    def _show_image(self, step: Step) -> None:
        sm, trial, p, cfg = self.sm, step.trial, self.presenter, self.cfg
        store = self.store
        if sm is None or trial is None or store is None:
            return
        t_prepare = session_clock()
        prepared = self._image(trial)
        image = prepared.image
        d = self.protocol.display
        layout: ImageLayout = prepared.layout or fit_image(
            (image.width, image.height),
            p.size,
            integer_scaling=d.integer_scaling,
            margin_px=d.margin_px,
        )
        stim = p.image_stim(image, layout, prepared.display)
        auto_end = None
        if cfg.reader is not None:
            if hasattr(self._tracker, "set_attention"):
                cfg.reader.look_at_image(self._tracker, layout, trial, step.attempt)
            auto_end = cfg.reader.viewing_time(trial, step.attempt)

        # The layout plus the display window in force, as REFLACX stores them per reading.
        layout_record: dict[str, object] = dict(layout.to_dict())
        if image.window is not None:
            layout_record["window_center"], layout_record["window_width"] = image.window

        def on_onset(t: float) -> None:
            # from the flip that showed the image, fixations are cut onto this trial
            self.pipeline.recorder.set_trial(trial.index, layout, t_from=t)
            self._marker(
                t,
                "image_onset",
                trial,
                image_id=trial.image_id,
                image_path=trial.image_path,
                condition=trial.condition,
                layout=layout.to_dict(),
                attempt=step.attempt,
                prepare_s=t - t_prepare,
            )
            store.update_trial(
                trial.index,
                status="shown",
                t_onset=t,
                layout_json=layout_record,
                image_sha256=image.sha256,
                attempt=step.attempt,
            )

        timing = self.protocol.timing
        shown = p.show_image(
            stim,
            end_keys=timing.end_keys,
            end_on_click=timing.end_on_click,
            min_s=timing.min_viewing_s,
            max_s=timing.max_viewing_s,
            on_onset=on_onset,
            t_prepare_start=t_prepare,
            auto_end_s=auto_end,
        )
        self.pipeline.recorder.set_trial(None, None, t_from=shown.t_offset)
        store.update_trial(
            trial.index,
            t_offset=shown.t_offset,
            frame_intervals_json=[round(v, 6) for v in shown.frame_intervals],
            dropped_frames=shown.dropped_frames,
        )
        delay = (
            shown.t_onset - self._t_last_response if math.isfinite(self._t_last_response) else None
        )
        self._marker(
            shown.t_offset,
            "image_offset",
            trial,
            end_reason=shown.end_reason,
            dropped_frames=shown.dropped_frames,
            n_frames=len(shown.frame_intervals),
            onset_delay_s=delay,
        )
        if shown.end_reason == "paused":
            sm.pause()
        else:
            sm.advance()

    def _response(self, step: Step) -> None:
        from experiment_protocols.forms_screen import FormScreen

        sm, trial, cfg, store = self.sm, step.trial, self.cfg, self.store
        if sm is None or trial is None or store is None:
            return
        cond = self.protocol.conditions[trial.condition]
        state = FormState(cond.name, cond.form)
        screen = FormScreen(self.presenter, state)
        self._preload(self._upcoming(1))  # the next image loads while the reader answers
        script: list[tuple[float, Any]] = []
        attempt = sm.trial_attempts.get(trial.index, 0)
        if cfg.reader is not None:
            ans = cfg.reader.answer(trial, cond.form, attempt)
            clicks = cfg.reader.clicks(ans, state, screen.targets)
            total = cfg.reader.response_time(trial, attempt)
            script = [(total * (i + 1) / len(clicks), c) for i, c in enumerate(clicks)]

        def planned(target: Any) -> None:
            x, y = target.rect.centre
            self._reader_gaze(x / self.presenter.size[0], y / self.presenter.size[1])

        t_form = session_clock()
        self._marker(t_form, "response_start", trial, condition=trial.condition)
        out = screen.run(script, on_planned=planned if cfg.reader is not None else None)
        if out.escaped:
            sm.pause()
            return
        onset = store.trial(trial.index)["t_onset"]
        resp = state.response(out.t, float(onset) if onset is not None else out.t)
        store.add_response(trial.index, trial.condition, out.t, **resp.to_store())
        self._t_last_response = out.t
        self._marker(
            out.t,
            "response",
            trial,
            condition=trial.condition,
            findings=list(resp.findings),
            authenticity=resp.authenticity,
            confidence=resp.confidence,
            rt_s=resp.rt_s,
        )
        sm.advance()

    def _iti(self, step: Step) -> None:
        sm, trial = self.sm, step.trial
        if sm is None:
            return
        self._marker(session_clock(), "trial_end", trial)
        self._preload(self._upcoming(1))
        _, escaped = self.presenter.blank(self.protocol.timing.iti_s)
        sm.pause() if escaped else sm.advance()

    def _paused(self, step: Step) -> None:
        from experiment_protocols.pause_screen import pause_menu

        sm = self.sm
        if sm is None:
            return
        t = session_clock()
        self._marker(t, "pause", step.trial, f"paused during {step.reason}")
        choice = pause_menu(
            self.presenter,
            f"Paused during: {step.reason.replace('_', ' ')}",
            auto_choice=self.cfg.auto_pause_choice if self.cfg.auto_respond else None,
        )
        self._marker(session_clock(), "pause_end", step.trial, choice=choice)
        sm.choose(choice)

    # ------------------------------------------------------------------ main
    def run(self) -> RunResult:
        """Run the session to its end; never leaves the window or threads behind."""
        cfg = self.cfg
        store, trials, done = self._open_store()
        self.store = store
        folder = store.folder
        cfg.log(f"session folder: {folder}")
        if cfg.resume and self.resume_info.get("next_trial") is None:
            return self._close_answered(store, len(trials))
        status, message = "aborted", ""
        problems: list[str] = []
        try:
            self._open_devices(store)
            self._start(store, trials, done)
            status, message = self._loop()
        except SessionAbort as exc:
            status, message = "aborted", str(exc)
            cfg.log(f"gazeread: session stopped: {exc}")
            self._say_on_screen("Session stopped", str(exc))
        except SessionInterrupted as exc:
            status, message = "interrupted", f"{exc} (the operator or the system stopped it)"
            self.interrupted_by = exc
        except KeyboardInterrupt:
            status, message = "interrupted", "stopped by SIGINT (Ctrl-C)"
        except Exception as exc:
            status, message = "aborted", f"{type(exc).__name__}: {exc}"
            cfg.log(f"gazeread: session stopped by an unexpected error: {message}")
            raise
        finally:
            problems = self._shutdown(status, message)
        n_done = sum(1 for t in store_trials(folder) if t == "complete")
        signal_exit = None
        if status == "interrupted":
            signal_exit = self.interrupted_by.exit_code if self.interrupted_by else 130
        return RunResult(folder, status, len(trials), n_done, message, problems, signal_exit)

    def _open_devices(self, store: SessionStore) -> None:
        """Open the tracker, the window and the image preloader.

        The tracker first: a device problem ends the run before any window opens.
        """
        from experiment_protocols.presenter_screen import Presenter
        from sessions.run.pipeline import Pipeline
        from stimuli.preload import ImagePreloader

        cfg, geometry = self.cfg, self.cfg.geometry
        opts = options_with_screen(cfg.tracker, dict(cfg.tracker_options), geometry)
        # a pseudonymous uid, never the participant label, names the streams (privacy)
        uid = store.session_uid() or "unknown"
        ident = f"gazeread-{uid}"
        if cfg.lsl:
            cfg.log(
                f"LSL streams: source_id {ident}-gaze, -markers, -fixations (scope "
                f"{cfg.lsl_scope}); follow them with: gazeread console --source {uid}"
            )
        try:
            self.pipeline = Pipeline(
                cfg.tracker,
                store,
                geometry,
                source_id=ident,
                tracker_options=opts,
                lsl=cfg.lsl,
                rate_hz=cfg.rate_hz,
                stall_s=self.protocol.tracker.outage_limit_s,
                detector=self.protocol.fixations.detector,
                detector_params=dict(self.protocol.fixations.params),
            )
        except (TrackerError, StoreError, TypeError, ValueError) as exc:
            raise SessionAbort(f"tracker {cfg.tracker!r} could not be set up: {exc}") from exc
        self.presenter = Presenter(
            geometry, fullscreen=cfg.fullscreen, background=self.protocol.display.background
        )
        if self.presenter.size != (geometry.width_px, geometry.height_px):
            w, h = self.presenter.size
            raise SessionAbort(
                f"the window opened at {w}x{h} px but the session geometry says "
                f"{geometry.width_px}x{geometry.height_px} (--screen): run again with "
                f"--screen {w}x{h} so that gaze, fixations and image positions agree"
            )
        d = self.protocol.display
        self.preloader = ImagePreloader(
            self.presenter.size,
            fit_options={"integer_scaling": d.integer_scaling, "margin_px": d.margin_px},
        )

    def _start(self, store: SessionStore, trials: list[PlannedTrial], done: set[int]) -> None:
        """Start recording, build the state machine, preload, say ``session_start``."""
        store.update_session(tracker_json=self.pipeline.tracker.info.to_dict())
        self.pipeline.start()
        if self.schedule is None:
            raise RuntimeError("no schedule")
        sched = Schedule(
            tuple(trials),
            self.schedule.seed,
            self.schedule.block_order,
            self.schedule.participant_number,
        )
        self.sm = SessionStateMachine(self.protocol, sched, done, resumed=self.cfg.resume)
        for idx, n in self._stored_attempts.items():
            if n > 0:
                self.sm.trial_attempts[idx] = n - 1  # the next showing gets attempt n
        self._preload(self._upcoming(0))
        self._preload(self._upcoming(1))
        self.presenter.on_frame = self._check
        off = self.presenter.offset
        store.add_clock_offset(off.t_session, "psychopy", off.offset_s, off.uncertainty_s)
        self._marker(
            session_clock(),
            "session_start",
            None,
            study=self.protocol.study,
            n_trials=len(trials),
            resumed=self.cfg.resume,
            session_uid=store.session_uid(),
        )

    def _loop(self) -> tuple[str, str]:
        """Hand each step of the state machine to its state's handler; ``(status, message)``."""
        assert self.sm is not None  # built by _start
        handlers: dict[State, Callable[[Step], None]] = {
            State.WELCOME: self._welcome,
            State.CALIBRATE: self._calibrate,
            State.BREAK: self._break,
            State.INSTRUCTIONS: self._instructions,
            State.PRE_TRIAL: self._pre_trial,
            State.IMAGE: self._show_image,
            State.RESPONSE: self._response,
            State.ITI: self._iti,
            State.PAUSED: self._paused,
        }
        while not self.sm.finished:
            step = self.sm.step
            handlers[step.state](step)
        if self.sm.state is not State.DONE:
            return "ended", "ended by the operator from the pause menu (saved)"
        self.presenter.show_text(
            "Thank you",
            "The session is complete. Everything is saved.",
            "",
            timeout_s=1.0 if self.cfg.auto_respond else 4.0,
        )
        return "completed", "all trials complete"

    def _close_answered(self, store: SessionStore, n_trials: int) -> RunResult:
        """Close a resumed session whose every trial was answered before it stopped.

        A process killed after the last answer never set the status: the session is marked
        completed, with a ``session_end`` event, and nothing is shown or re-run.
        """
        message = "closed by --resume: every trial was answered before the recording stopped"
        t = self.resume_info.get("last_t") or session_clock()
        try:
            store.add_event(float(t), "session_end", message, status="completed")
            store.finish("completed")
        finally:
            store.close()
        self.cfg.log(f"gazeread: {message}")
        return RunResult(store.folder, "completed", n_trials, n_trials, message, [])

    def _say_on_screen(self, title: str, text: str) -> None:
        if self.presenter is None:
            return
        with contextlib.suppress(Exception):  # the window may be the thing that broke
            self.presenter.on_frame = None
            self.presenter.show_text(
                title, text, "Press SPACE", timeout_s=2.0 if self.cfg.auto_respond else 15.0
            )

    def _shutdown(self, status: str, message: str) -> list[str]:
        problems: list[str] = []
        t = session_clock()
        if self.presenter is not None:
            self.presenter.on_frame = None
        if self.pipeline is not None and self.store is not None:
            try:
                self._marker(t, "session_end", None, message, status=status)
            except Exception as exc:
                problems.append(f"could not write the session_end marker: {exc}")
            problems += self.pipeline.stop()
        if self.preloader is not None:
            try:
                self.preloader.close(timeout=5.0)
            except Exception as exc:
                problems.append(f"image preloader: {exc}")
        if self.presenter is not None:
            self.presenter.close()
        if self.store is not None:
            try:
                stored = {
                    "completed": "completed",
                    "ended": "aborted",
                    "aborted": "interrupted",
                    "interrupted": "interrupted",
                }[status]
                self.store.finish(stored)
            except Exception as exc:
                problems.append(f"could not update the session status: {exc}")
            try:
                self.store.close()
            except Exception as exc:
                problems.append(f"could not close the store: {exc}")
        return problems
