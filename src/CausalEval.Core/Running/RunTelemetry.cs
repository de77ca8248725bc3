using System.Diagnostics;
using System.Diagnostics.Metrics;
using CausalEval.Core.Episodes;
using CausalEval.Core.Results;

namespace CausalEval.Core.Running;

/// <summary>
/// The harness's own OpenTelemetry signals, through the BCL's <see cref="ActivitySource"/> and <see cref="Meter"/> (no
/// vendor package in Core): spans <c>causaleval.run</c> ⊃ <c>causaleval.trial</c> ⊃ <c>causaleval.step</c> (the model
/// calls' <c>gen_ai.*</c> spans nest inside the step), and counters of trials, model calls, retries, billed tokens and
/// cost. Without a listener (no exporter configured) <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns
/// null and the counters record nothing, so a plain run pays next to nothing.
/// </summary>
public static class RunTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "CausalEval";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Trials = Meter.CreateCounter<long>("causaleval.trials", "{trial}", "Trials finished and written");
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("causaleval.calls", "{call}", "Model calls answered (from the provider or the response cache)");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("causaleval.retries", "{retry}", "Model calls retried before they were answered");
    private static readonly Counter<long> Tokens = Meter.CreateCounter<long>("causaleval.tokens", "{token}", "Tokens billed by the provider");
    private static readonly Counter<double> Cost = Meter.CreateCounter<double>("causaleval.cost", "USD", "What the billed tokens cost");

    /// <summary>The run's span (null without a listener).</summary>
    public static Activity? StartRun(RunPlan plan, long planned)
    {
        var activity = Source.StartActivity("causaleval.run");
        if (activity is not null)
        {
            activity.SetTag("causaleval.split", plan.Split);
            activity.SetTag("causaleval.models", string.Join(",", plan.Models.Select(m => plan.ModelNames.GetValueOrDefault(m) ?? m)));
            activity.SetTag("causaleval.tasks", string.Join(",", plan.Tasks.Select(t => t.Id)));
            activity.SetTag("causaleval.trials.planned", planned);
        }
        return activity;
    }

    public static void EndRun(Activity? activity, RunOutcome outcome)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("causaleval.trials.written", outcome.Written);
        activity.SetTag("causaleval.trials.errors", outcome.Errors);
        activity.SetTag("causaleval.cost_usd", outcome.CostUsd);
        activity.SetTag("causaleval.status", outcome.Cancelled ? "interrupted" : outcome.StoppedByBudget ? "stopped-by-budget" : "completed");
    }

    /// <summary>A trial's span (null without a listener).</summary>
    public static Activity? StartTrial(TrialSpec spec)
    {
        var activity = Source.StartActivity("causaleval.trial");
        if (activity is not null)
        {
            activity.SetTag("causaleval.trial.id", spec.TrialId);
            activity.SetTag("causaleval.task", spec.TaskId);
            activity.SetTag("causaleval.episode", spec.Episode.Id);
            activity.SetTag("causaleval.model", spec.DisplayModel);
            activity.SetTag("causaleval.model.id", spec.Model);
            activity.SetTag("causaleval.prompt_variant", spec.PromptVariant);
            activity.SetTag("causaleval.epoch", spec.Epoch);
        }
        return activity;
    }

    /// <summary>Ends a trial's span with its outcome and counts the trial, its calls, retries, tokens and cost.</summary>
    public static void EndTrial(Activity? activity, TrialRecord record)
    {
        var model = new KeyValuePair<string, object?>("causaleval.model", record.Spec.DisplayModel);
        var outcome = new KeyValuePair<string, object?>("causaleval.outcome", record.Error is null ? "ok" : "error");
        var task = new KeyValuePair<string, object?>("causaleval.task", record.Spec.TaskId);
        Trials.Add(1, model, task, outcome);
        if (record.Transcript is { } transcript)
        {
            long answered = 0, cached = 0, retries = 0;
            foreach (var step in transcript.Steps)
            {
                // Model agents' steps carry the messages they sent; built-in agents make no calls.
                if (!step.Decision.Messages.IsDefaultOrEmpty)
                {
                    answered++;
                    cached += step.Decision.Cached ? 1 : 0;
                    retries += step.Decision.Retries;
                }
            }
            Calls.Add(answered - cached, model, new("causaleval.cached", false));
            Calls.Add(cached, model, new("causaleval.cached", true));
            Retries.Add(retries, model);
        }
        Tokens.Add(record.Usage.InputTokens, model, new("gen_ai.token.type", "input"));
        Tokens.Add(record.Usage.OutputTokens, model, new("gen_ai.token.type", "output"));
        Cost.Add(record.Cost, model);
        if (activity is null)
        {
            return;
        }
        activity.SetTag("causaleval.input_tokens", record.Usage.InputTokens);
        activity.SetTag("causaleval.output_tokens", record.Usage.OutputTokens);
        activity.SetTag("causaleval.cost_usd", record.Cost);
        if (record.Scores is { } scores)
        {
            activity.SetTag("causaleval.normalized", scores.Normalized);
            activity.SetTag("causaleval.optimal_action", scores.OptimalAction);
        }
        if (record.Error is { } error)
        {
            activity.SetTag("error.type", error.Kind);
            activity.SetStatus(ActivityStatusCode.Error, error.Kind);
        }
        activity.Dispose();
    }

    /// <summary>A step's span (null without a listener).</summary>
    public static Activity? StartStep(EpisodeView view)
    {
        // Checked first: a run without a listener (the usual one) plays millions of steps, and StartActivity does more
        // before it finds none.
        if (!Source.HasListeners())
        {
            return null;
        }
        var activity = Source.StartActivity("causaleval.step");
        if (activity is not null)
        {
            activity.SetTag("causaleval.step.index", view.StepIndex);
            activity.SetTag("causaleval.step.phase", view.Phase.ToString().ToLowerInvariant());
        }
        return activity;
    }

    public static void EndStep(Activity? activity, StepRecord step)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("causaleval.step.status", step.Status switch
        {
            StepStatus.Valid => "valid",
            StepStatus.Invalid => "invalid",
            _ => "parse_failure",
        });
        activity.Dispose();
    }
}
