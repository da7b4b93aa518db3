"""Power logs: tegrastats and external-meter parsers, a tegrastats recorder, phase alignment."""

from calibration.power.meter import parse_meter_csv, read_meter_csv
from calibration.power.recorder import TegrastatsRecorder
from calibration.power.tegrastats import (
    INPUT_RAILS,
    parse_line,
    parse_lines,
    read_tegrastats,
    to_trace,
)
from calibration.power.trace import PhaseEnergy, PowerTrace, align_phases

__all__ = [
    "INPUT_RAILS",
    "PhaseEnergy",
    "PowerTrace",
    "TegrastatsRecorder",
    "align_phases",
    "parse_line",
    "parse_lines",
    "parse_meter_csv",
    "read_meter_csv",
    "read_tegrastats",
    "to_trace",
]
