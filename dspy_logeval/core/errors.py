"""Errors a user can fix. Anything else is a bug and keeps its traceback.

* LogevalError
  + ConfigError       missing/invalid YAML or field values
  + DatasetError      missing samples.json, label not in taxonomy, sha256 mismatch
  + ProgramNotFound   --program NAME not in programs/, unknown prompt template
  + ModelUnavailable  llama.cpp server unreachable, died mid-run, model file missing or corrupt
  + RunError          run folder missing, empty or not comparable
  + ArtifactError     compiled program / prompt artifact unreadable or wrong format_version
  + AnalysisParseError  the production LM answered, but not in the artifact's JSON schema
  + LMRequestError    the LM server refused a production request (4xx, e.g. the logs exceed its context)
  + LMResponseError   the LM server answered, but not with a chat completion (HTML, an empty body)
  + LogSourceError    Loki unreachable or refused a query
  + RunStopped        a run stopped part-way (LM gone, Ctrl-C); its records are kept for --resume
  + PromotionRefused  a candidate prompt scored worse than production, or cannot be compared (--force overrides)
  + TrackingError     MLflow not installed, or its tracking server unreachable
  + ServeError        the API server could not start (address unusable)
"""

from __future__ import annotations


class LogevalError(Exception):
    """Base of every error the CLI reports as one line."""


class ConfigError(LogevalError):
    """Missing or invalid experiment config."""


class DatasetError(LogevalError):
    """Missing, malformed or tampered dataset."""


class ProgramNotFound(LogevalError):
    """Unknown program or prompt template name."""


class ModelUnavailable(LogevalError):
    """The LM server cannot be reached or the model cannot be loaded."""


class RunError(LogevalError):
    """A run folder that is missing, empty or cannot be used as asked."""


class ArtifactError(LogevalError):
    """A compiled program or prompt artifact that cannot be used."""


class AnalysisParseError(LogevalError):
    """The LM answered, but its text is not a JSON object in the prompt artifact's schema."""


class LMRequestError(LogevalError):
    """The LM server refused a request (4xx other than 429), e.g. a prompt over its context window."""


class LMResponseError(LogevalError):
    """The LM server answered, but its body is not a chat completion (an HTML page, a proxy's error text)."""


class LogSourceError(LogevalError):
    """Loki could not be reached or refused the query built from the request's filters."""


class RunStopped(LogevalError):
    """A run that stopped part-way; what it recorded is kept and can be resumed."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        """130 after Ctrl-C (the shell convention), 1 otherwise."""

class PromotionRefused(LogevalError):
    """A prompt that would make production significantly worse, or that cannot be shown not to."""


class TrackingError(LogevalError):
    """A finished run could not be logged to the experiment tracker."""

class ServeError(LogevalError):
    """The API server could not start, e.g. its port was taken between the check and the bind."""
