"""gazeread: protocol files and their model, trial scheduling, response forms, the trial state machine.

The drawing modules (``presenter_screen``, ``forms_screen``, ``pause_screen``,
``calibration_screen``) import PsychoPy and are not re-exported here.
"""

from experiment_protocols.forms import FormState, Response, layout_form
from experiment_protocols.loader import (
    LoadedProtocol,
    ProtocolFileError,
    builtin_protocol_names,
    load_protocol,
    parse_protocol,
)
from experiment_protocols.model import (
    AuthenticityForm,
    Block,
    Condition,
    DiagnosticForm,
    Protocol,
    ProtocolError,
)
from experiment_protocols.schedule import PlannedTrial, Schedule, StimulusRef, build_schedule
from experiment_protocols.simulated_reader import SimulatedReader
from experiment_protocols.state_machine import PauseChoice, SessionStateMachine, State, Step

__all__ = [
    "AuthenticityForm",
    "Block",
    "Condition",
    "DiagnosticForm",
    "FormState",
    "LoadedProtocol",
    "PauseChoice",
    "PlannedTrial",
    "Protocol",
    "ProtocolError",
    "ProtocolFileError",
    "Response",
    "Schedule",
    "SessionStateMachine",
    "SimulatedReader",
    "State",
    "Step",
    "StimulusRef",
    "build_schedule",
    "builtin_protocol_names",
    "layout_form",
    "load_protocol",
    "parse_protocol",
]
