using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Results;

/// <summary>Writes a trial as the one-line JSON object of DESIGN §2.4.</summary>
public static class TrialJson
{
    public static void Write(Utf8JsonWriter writer, TrialRecord record)
    {
        var spec = record.Spec;
        var episode = spec.Episode;
        writer.WriteStartObject();
        writer.WriteString(TrialFields.TrialId, spec.TrialId);
        writer.WriteString(TrialFields.Task, spec.TaskId);
        writer.WriteNumber(TrialFields.TaskVersion, spec.TaskVersion);
        writer.WriteString(TrialFields.Split, spec.Split);
        writer.WriteString(TrialFields.Episode, episode.Id);
        writer.WriteString(TrialFields.Model, spec.DisplayModel);
        if (spec.ModelName is not null)
        {
            writer.WriteString(TrialFields.ModelSpec, spec.Model);
        }
        writer.WriteStringOrNull(TrialFields.PromptVariant, spec.PromptVariant);
        writer.WriteStringOrNull(TrialFields.Naming, spec.Naming);
        writer.WriteNumber(TrialFields.Epoch, spec.Epoch);
        writer.WriteNumber(TrialFields.Seed, spec.EnvironmentSeed);
        if (episode is OddOneOut.OddOneOutEpisode puzzle)
        {
            // Odd-one-out has no target variable; the hidden concept is what the exploit pick is scored against.
            writer.WriteNull(TrialFields.Target);
            writer.WriteString(TrialFields.Concept, OddOneOut.Dimensions.Name(puzzle.Concept));
        }
        else
        {
            writer.WriteString(TrialFields.Target, ((Episode)episode).Target);
        }
        writer.WriteStartArray(TrialFields.Steps);
        foreach (var step in record.Transcript?.Steps ?? [])
        {
            WriteStep(writer, step, episode, record.Observer);
        }
        writer.WriteEndArray();
        if (record.Scores is { } scores)
        {
            WriteScores(writer, scores);
        }
        else
        {
            writer.WriteNull(TrialFields.ScoresObject);
        }
        // Billed tokens, and apart from them the tokens of answers served from the response cache (at no cost).
        writer.WriteUsage(TrialFields.Usage, record.Usage, withCached: true);
        writer.WriteNumber(TrialFields.Cost, record.Cost);
        writer.WriteNumber(TrialFields.LatencyMs, Math.Round(record.Latency.TotalMilliseconds, 3));
        writer.WriteString(TrialFields.StartedAt, record.StartedAt);
        writer.WriteString(TrialFields.FinishedAt, record.FinishedAt);
        if (record.Error is { } error)
        {
            writer.WriteStartObject(TrialFields.Error);
            writer.WriteString("kind", error.Kind);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull(TrialFields.Error);
        }
        writer.WriteEndObject();
    }

    private static void WriteStep(Utf8JsonWriter writer, StepRecord step, TaskEpisode episode, Inference.ObserverAnalysis? observer)
    {
        var decision = step.Decision;
        writer.WriteStartObject();
        writer.WriteNumber("index", step.Index);
        writer.WriteString("phase", step.Phase switch { Phase.Explore => "explore", Phase.Exploit => "exploit", _ => "structure" });
        writer.WriteString("status", step.Status switch { StepStatus.Valid => "valid", StepStatus.Invalid => "invalid", _ => "parse_failure" });
        if (episode is Episode dag)
        {
            writer.WriteIntervention("action", decision.Action);
            if (step.Phase == Phase.Structure)
            {
                WriteEdges(writer, "edges", decision.Edges);
            }
            if (step.Observation.IsDefault)
            {
                writer.WriteNull("observation");
            }
            else
            {
                Tasks.EpisodeJson.WriteValues(writer, "observation", dag.World.Observable, step.Observation);
            }
        }
        else
        {
            // Odd-one-out: the move, the objects as the step left them, and a pick's outcome.
            WriteMove(writer, "move", decision.Move);
            if (step.Outcome is { } outcome)
            {
                writer.WritePropertyName("objects");
                OddOneOut.OddOneOutJson.WriteObjects(writer, outcome.Objects);
                if (outcome.Correct is { } correct)
                {
                    writer.WriteBoolean("correct", correct);
                }
                else
                {
                    writer.WriteNull("correct");
                }
            }
        }
        writer.WriteStringOrNull("error", step.Error);
        // Model-specific fields appear only when a model produced them, keeping built-in transcripts small.
        if (!decision.Messages.IsDefault)
        {
            writer.WriteStartArray("messages");
            foreach (var message in decision.Messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role);
                writer.WriteString("content", message.Content);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        if (decision.RawAnswer is not null)
        {
            writer.WriteString("raw_answer", decision.RawAnswer);
            // The lenient reading sits next to the strict one (action/edges above), which is the one that scores.
            if (episode is not Episode)
            {
                WriteMove(writer, "lenient_move", decision.LenientMove);
            }
            else if (step.Phase == Phase.Structure)
            {
                WriteEdges(writer, "lenient_edges", decision.LenientEdges);
            }
            else
            {
                writer.WriteIntervention("lenient_action", decision.LenientAction);
            }
        }
        if (decision.ParseError is not null)
        {
            writer.WriteString("parse_error", decision.ParseError);
        }
        if (decision.Rationale is not null)
        {
            writer.WriteString("rationale", decision.Rationale);
        }
        if (decision.Usage != default)
        {
            writer.WriteUsage("usage", decision.Usage);
        }
        if (decision.Latency is { } latency)
        {
            writer.WriteNumber("latency_ms", Math.Round(latency.TotalMilliseconds, 3));
        }
        if (decision.Cached)
        {
            writer.WriteBoolean("cached", true);
        }
        if (decision.Retries > 0)
        {
            writer.WriteNumber("retries", decision.Retries);
        }
        if (!decision.RetryReasons.IsDefaultOrEmpty)
        {
            writer.WriteStrings("retry_reasons", decision.RetryReasons);
        }
        WriteObserver(writer, step, observer);
        writer.WriteEndObject();
    }

    /// <summary>The ideal observer at this step: bits of the chosen and the best experiment, or the Bayes exploit.</summary>
    private static void WriteObserver(Utf8JsonWriter writer, StepRecord step, Inference.ObserverAnalysis? observer)
    {
        if (observer is null)
        {
            return;
        }
        if (step.Phase == Phase.Explore && observer.Steps.FirstOrDefault(s => s.Step == step.Index) is { } information)
        {
            writer.WriteStartObject("information");
            writer.WriteNumber("chosen", information.Chosen);
            writer.WriteNumber("best", information.Best);
            writer.WriteEndObject();
        }
        else if (step.Phase == Phase.Exploit)
        {
            writer.WriteStartArray("bayes_exploit");
            foreach (var action in observer.BayesExploit)
            {
                writer.WriteStartObject();
                writer.WriteString("variable", action.Action.Variable);
                writer.WriteNumber("value", action.Action.Value);
                writer.WriteNumber("expected", action.Expected);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
    }

    /// <summary><c>{"kind": "transform", "object": "B", "dimension": "shape"}</c> or <c>{"kind": "pick", "object": "C"}</c>, or null.</summary>
    private static void WriteMove(Utf8JsonWriter writer, string name, OddOneOut.OddOneOutMove? value)
    {
        if (value is not { } move)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartObject(name);
        writer.WriteString("kind", move.Kind == OddOneOut.MoveKind.Transform ? "transform" : "pick");
        writer.WriteString("object", move.Object);
        if (move.Dimension is { } dimension)
        {
            writer.WriteString("dimension", OddOneOut.Dimensions.Name(dimension));
        }
        writer.WriteEndObject();
    }

    private static void WriteEdges(Utf8JsonWriter writer, string name, System.Collections.Immutable.ImmutableArray<Worlds.DirectedLink>? edges)
    {
        if (edges is { } list)
        {
            writer.WriteStartArray(name);
            foreach (var edge in list)
            {
                writer.WriteStringValue(edge.ToString());
            }
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteScores(Utf8JsonWriter writer, Scores scores)
    {
        writer.WriteStartObject(TrialFields.ScoresObject);
        foreach (var field in TrialFields.Scores)
        {
            if (field.Get(scores) is not { } value)
            {
                writer.WriteNull(field.Encoded);
            }
            else if (field.Whole)
            {
                writer.WriteNumber(field.Encoded, (long)value);
            }
            else
            {
                writer.WriteNumber(field.Encoded, value);
            }
        }
        writer.WriteEndObject();
    }
}
