namespace CausalEval.Core.Running;

/// <summary>Where a run stands: <c>run.json</c>'s <c>status</c>.</summary>
public enum RunStatus
{
    /// <summary>Started and not ended (or the process died: a resume finishes it).</summary>
    Running,

    /// <summary>Every planned trial is written and none ended in an error.</summary>
    Finished,

    /// <summary>Every trial that was started is written, and some ended in an error.</summary>
    Failed,

    /// <summary>Stopped (Ctrl-C, cancellation) before every trial was written.</summary>
    Interrupted,

    /// <summary>Stopped scheduling when the spend reached the budget (<c>--max-cost</c>).</summary>
    StoppedByBudget,
}

/// <summary>The names <c>run.json</c> gives the statuses.</summary>
public static class RunStatusNames
{
    public static string Name(this RunStatus status) => status switch
    {
        RunStatus.Running => "running",
        RunStatus.Finished => "finished",
        RunStatus.Failed => "failed",
        RunStatus.Interrupted => "interrupted",
        RunStatus.StoppedByBudget => "stopped-by-budget",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>The status named <paramref name="name"/>; null for an unknown name.</summary>
    public static RunStatus? Parse(string name) => name switch
    {
        "running" => RunStatus.Running,
        "finished" => RunStatus.Finished,
        "failed" => RunStatus.Failed,
        "interrupted" => RunStatus.Interrupted,
        "stopped-by-budget" => RunStatus.StoppedByBudget,
        _ => null,
    };
}

/// <summary>A run could not go on and could not record how it ended (e.g. <c>run.json</c> unwritable on a full disk); the CLI exits 1 with the message.</summary>
public sealed class RunFailedException(string message, Exception? inner = null) : Exception(message, inner);
