using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Results;

/// <summary>
/// Identity of one trial: a task's episode played by a model under a prompt variant (and naming scheme) in one epoch.
/// </summary>
public sealed record TrialSpec(
    long Index,
    string TrialId,
    string TaskId,
    int TaskVersion,
    string Split,
    TaskEpisode Episode,
    string Model,
    string? PromptVariant,
    int Epoch,
    ulong EnvironmentSeed,
    ulong AgentSeed,
    string? Naming = null,
    Tasks.TaskDefinition? Task = null,
    string? ModelName = null)
{
    /// <summary>How trials, leaderboards and reports show the model: its display name (<c>--model NAME=SPEC</c>), else its id.</summary>
    public string DisplayModel => ModelName ?? Model;
}

/// <summary>Why a trial ended without scores.</summary>
public sealed record TrialError(string Kind, string Message)
{
    /// <summary>A model call gave up while its endpoint's circuit breaker stayed open (the endpoint looks down).</summary>
    public const string CircuitOpenKind = ErrorKinds.CircuitOpen;

    /// <summary>Whether the trial may succeed when played again (<see cref="ErrorKinds.Retryable"/>).</summary>
    public static bool IsRetryable(string? kind) => kind is not null && ErrorKinds.Retryable.Contains(kind);
}

/// <summary>One finished trial, as one line of <c>trials.jsonl</c>.</summary>
public sealed record TrialRecord(
    TrialSpec Spec,
    EpisodeTranscript? Transcript,
    Scores? Scores,
    Usage Usage,
    double Cost,
    TimeSpan Latency,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    TrialError? Error)
{
    /// <summary>The ideal observer's view of the trial (per-step information, Bayes exploit); null when not computed.</summary>
    public Inference.ObserverAnalysis? Observer { get; init; }
}
