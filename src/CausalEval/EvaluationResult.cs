using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval;

/// <summary>One row of an evaluation's leaderboard: a model under a prompt variant on one task.</summary>
/// <param name="Model">The model's name (<see cref="EvaluatedModel.Name"/>).</param>
/// <param name="PromptVariant">The prompt variant; null for models that take no prompts (the built-in agents).</param>
/// <param name="Task">The task id.</param>
/// <param name="Trials">Trials written, including those that ended in an error.</param>
/// <param name="Normalized">Mean of exploit value ÷ optimal value over the scored trials (1 optimal, 0 random play); a trial without a valid exploit action counts 0. Null when none was scored.</param>
/// <param name="OptimalAction">Share of scored trials whose exploit action is optimal (ties count).</param>
/// <param name="Regret">Mean of optimal value − exploit value over the scored trials.</param>
public sealed record LeaderboardEntry(string Model, string? PromptVariant, string Task, long Trials, double? Normalized, double? OptimalAction, double? Regret)
{
    /// <summary>Trials that ended in an error (not scored).</summary>
    public long Errors { get; init; }

    /// <summary>Mean share of the cued variables explored; null for tasks without exploration.</summary>
    public double? Coverage { get; init; }

    /// <summary>Share of the model's answers that were invalid or unreadable.</summary>
    public double? InvalidRate { get; init; }
}

/// <summary>How an evaluation ended: its run folder (read it with <c>causaleval report</c>), status and leaderboard.</summary>
public sealed record EvaluationResult
{
    /// <summary>The run folder: <c>run.json</c>, <c>trials.jsonl</c>, <c>leaderboard.md</c>.</summary>
    public required string RunDirectory { get; init; }

    /// <summary>Finished; failed (some trials ended in an error: see their <c>error</c>); interrupted (cancelled: resume it with <see cref="EvaluationOptions.ResumeDirectory"/>); or stopped by the budget.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>Per model, prompt variant and task, ordered by task then best first.</summary>
    public required IReadOnlyList<LeaderboardEntry> Leaderboard { get; init; }

    /// <summary>Trials the run plans in all.</summary>
    public required long TrialsPlanned { get; init; }

    /// <summary>Trials in <c>trials.jsonl</c> now (earlier attempts included).</summary>
    public required long TrialsWritten { get; init; }

    /// <summary>Trials that ended in an error.</summary>
    public required long TrialErrors { get; init; }

    /// <summary>US dollars spent on the trials written (by the prices known for each model; none: 0).</summary>
    public required double CostUsd { get; init; }

    /// <summary>The plain leaderboard (<c>leaderboard.md</c>'s text).</summary>
    public required string LeaderboardMarkdown { get; init; }
}
