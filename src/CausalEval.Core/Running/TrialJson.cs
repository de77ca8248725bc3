using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Running;

/// <summary>Writes a trial as the one-line JSON object of DESIGN §2.4.</summary>
public static class TrialJson
{
    public static void Write(Utf8JsonWriter writer, TrialRecord record)
    {
        var spec = record.Spec;
        var episode = spec.Episode;
        writer.WriteStartObject();
        writer.WriteString("trial_id", spec.TrialId);
        writer.WriteString("task", spec.TaskId);
        writer.WriteNumber("task_version", spec.TaskVersion);
        writer.WriteString("split", spec.Split);
        writer.WriteString("episode", episode.Id);
        writer.WriteString("model", spec.Model);
        writer.WriteStringOrNull("prompt_variant", spec.PromptVariant);
        writer.WriteStringOrNull("naming", spec.Naming);
        writer.WriteNumber("epoch", spec.Epoch);
        writer.WriteNumber("seed", spec.EnvironmentSeed);
        writer.WriteString("target", episode.Target);
        writer.WriteStartArray("steps");
        foreach (var step in record.Transcript?.Steps ?? [])
        {
            WriteStep(writer, step, episode);
        }
        writer.WriteEndArray();
        if (record.Scores is { } scores)
        {
            WriteScores(writer, scores);
        }
        else
        {
            writer.WriteNull("scores");
        }
        writer.WriteUsage("usage", record.Usage);
        writer.WriteNumber("cost", record.Cost);
        writer.WriteNumber("latency_ms", Math.Round(record.Latency.TotalMilliseconds, 3));
        writer.WriteString("started_at", record.StartedAt);
        writer.WriteString("finished_at", record.FinishedAt);
        if (record.Error is { } error)
        {
            writer.WriteStartObject("error");
            writer.WriteString("kind", error.Kind);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("error");
        }
        writer.WriteEndObject();
    }

    private static void WriteStep(Utf8JsonWriter writer, StepRecord step, Episode episode)
    {
        var decision = step.Decision;
        writer.WriteStartObject();
        writer.WriteNumber("index", step.Index);
        writer.WriteString("phase", step.Phase switch { Phase.Explore => "explore", Phase.Exploit => "exploit", _ => "structure" });
        writer.WriteString("status", step.Status switch { StepStatus.Valid => "valid", StepStatus.Invalid => "invalid", _ => "parse_failure" });
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
            Tasks.EpisodeJson.WriteValues(writer, "observation", episode.World.Observable, step.Observation);
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
            if (step.Phase == Phase.Structure)
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
        writer.WriteStartObject("scores");
        writer.WriteNumberOrNull("exploit_value", scores.ExploitValue);
        writer.WriteNumber("optimal_value", scores.OptimalValue);
        writer.WriteNumberOrNull("normalized", scores.Normalized);
        writer.WriteNumber("optimal_action", scores.OptimalAction);
        writer.WriteNumberOrNull("regret", scores.Regret);
        writer.WriteNumberOrNull("explore_coverage", scores.ExploreCoverage);
        writer.WriteNumberOrNull("subset_adherence", scores.SubsetAdherence);
        writer.WriteNumberOrNull("structure_f1", scores.StructureF1);
        writer.WriteNumberOrNull("shd", scores.Shd);
        writer.WriteNumber("invalid_actions", scores.InvalidActions);
        writer.WriteNumber("parse_failures", scores.ParseFailures);
        writer.WriteEndObject();
    }


}
