using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Input;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Tests.Support;

/// <summary>One synthetic trial line: what the report reads, with defaults for the rest.</summary>
internal sealed record TrialSpec
{
    public required string Task { get; init; }
    public required string Episode { get; init; }
    public required string Model { get; init; }
    public string? Variant { get; init; }
    public string? Naming { get; init; }
    public int Epoch { get; init; } = 1;

    /// <summary>Null: the trial ended in an error (no scores).</summary>
    public double? Normalized { get; init; } = 1;
    public int OptimalAction { get; init; } = 1;
    public double OptimalValue { get; init; } = 10;
    public double? Coverage { get; init; } = 1;
    public double? StructureF1 { get; init; }

    /// <summary>The ideal observer's evidence value (its regret decomposition is written from it); null: none.</summary>
    public double? EvidenceValue { get; init; }
    public int InvalidActions { get; init; }
    public int ParseFailures { get; init; }
    public int Steps { get; init; } = 2;
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public double Cost { get; init; }
    public double LatencyMs { get; init; } = 5;

    /// <summary>Each step carries chat messages and a raw answer, as LLM trials do.</summary>
    public bool WithMessages { get; init; }

    public string TrialId => CausalEval.Core.Randomness.StableId.Hex16(Task, Episode, Model, Variant, Naming, Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>Writes a run folder (run.json and trials.jsonl) of synthetic trials, as `causaleval run` would.</summary>
internal static class SyntheticRun
{
    public static string Write(string directory, IReadOnlyList<TrialSpec> trials, string runId = "synthetic-run", ulong seed = 0,
        IReadOnlyDictionary<string, (int Version, string Sha)>? tasks = null)
    {
        Directory.CreateDirectory(directory);
        var taskIds = trials.Select(t => t.Task).Distinct().Order(StringComparer.Ordinal).ToList();
        new RunManifest
        {
            RunId = runId,
            CommandLine = ["causaleval", "run"],
            ToolVersion = "0.1.0",
            GitRevision = "test",
            Tasks = [.. taskIds.Select(id => new ManifestTask(id, tasks?.GetValueOrDefault(id).Version ?? 1, "test",
                trials.Where(t => t.Task == id).Select(t => t.Episode).Distinct().Count(), tasks?.GetValueOrDefault(id).Sha ?? "sha-" + id))],
            Models = [.. trials.Select(t => t.Model).Distinct()],
            PromptVariants = [.. trials.Select(t => t.Variant).Distinct()],
            Seed = seed,
            Epochs = trials.Max(t => t.Epoch),
            Concurrency = 1,
            TrialsPlanned = trials.Count,
            TrialsWritten = trials.Count,
            Status = RunStatus.Finished,
            StartedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
        }.Save(directory);
        var text = new StringBuilder();
        foreach (var trial in trials)
        {
            text.Append(Line(trial)).Append('\n');
        }
        File.WriteAllText(Path.Combine(directory, JsonlResultStore.FileName), text.ToString(), new UTF8Encoding(false));
        return directory;
    }

    public static string Line(TrialSpec t)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("trial_id", t.TrialId);
            w.WriteString("task", t.Task);
            w.WriteNumber("task_version", 1);
            w.WriteString("split", "test");
            w.WriteString("episode", t.Episode);
            w.WriteString("model", t.Model);
            if (t.Variant is null) { w.WriteNull("prompt_variant"); } else { w.WriteString("prompt_variant", t.Variant); }
            if (t.Naming is not null) { w.WriteString("naming", t.Naming); }
            w.WriteNumber("epoch", t.Epoch);
            w.WriteNumber("seed", 7);
            w.WriteString("target", "E");
            w.WriteStartArray("steps");
            for (var i = 0; i < t.Steps; i++)
            {
                var exploit = i == t.Steps - 1;
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("phase", exploit ? "exploit" : "explore");
                w.WriteString("status", i < t.ParseFailures ? "parse_failure" : "valid");
                w.WriteStartObject("action");
                w.WriteString("variable", exploit ? "C" : "A");
                w.WriteNumber("value", exploit ? -5 : 5);
                w.WriteEndObject();
                if (exploit) { w.WriteNull("observation"); }
                else
                {
                    w.WriteStartObject("observation");
                    w.WriteNumber("A", 5);
                    w.WriteNumber("E", -4.98);
                    w.WriteEndObject();
                }
                w.WriteNull("error");
                if (t.WithMessages)
                {
                    w.WriteStartArray("messages");
                    w.WriteStartObject();
                    w.WriteString("role", "system");
                    w.WriteString("content", "You are running experiments on a causal system. <b>not html</b>");
                    w.WriteEndObject();
                    w.WriteStartObject();
                    w.WriteString("role", "user");
                    w.WriteString("content", $"Step {i}: choose an intervention for episode {t.Episode}.");
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteString("raw_answer", $"I will test A first.\nACTION: do({(exploit ? "C" : "A")} = {(exploit ? -5 : 5)})");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (t.Normalized is { } normalized)
            {
                w.WriteStartObject("scores");
                w.WriteNumber("exploit_value", normalized * t.OptimalValue);
                w.WriteNumber("optimal_value", t.OptimalValue);
                w.WriteNumber("normalized", normalized);
                w.WriteNumber("optimal_action", t.OptimalAction);
                w.WriteNumber("regret", t.OptimalValue - normalized * t.OptimalValue);
                if (t.Coverage is { } c) { w.WriteNumber("explore_coverage", c); } else { w.WriteNull("explore_coverage"); }
                w.WriteNull("subset_adherence");
                if (t.StructureF1 is { } f1) { w.WriteNumber("structure_f1", f1); w.WriteNumber("shd", 2); } else { w.WriteNull("structure_f1"); w.WriteNull("shd"); }
                w.WriteNumber("invalid_actions", t.InvalidActions);
                w.WriteNumber("parse_failures", t.ParseFailures);
                if (t.EvidenceValue is { } evidence)
                {
                    w.WriteNumber("evidence_value", evidence);
                    w.WriteNumber("exploration_regret", t.OptimalValue - evidence);
                    w.WriteNumber("inference_regret", evidence - normalized * t.OptimalValue);
                }
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("scores");
            }
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", t.InputTokens);
            w.WriteNumber("output_tokens", t.OutputTokens);
            w.WriteEndObject();
            w.WriteNumber("cost", t.Cost);
            w.WriteNumber("latency_ms", t.LatencyMs);
            w.WriteString("started_at", "2025-01-02T03:04:05+00:00");
            w.WriteString("finished_at", "2025-01-02T03:04:06+00:00");
            if (t.Normalized is null)
            {
                w.WriteStartObject("error");
                w.WriteString("kind", "model_error");
                w.WriteString("message", "HTTP 500 from the provider");
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("error");
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>A temporary folder removed at the end of a test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "causaleval-report-tests-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Reads synthetic trials through the real reader.</summary>
internal static class Loaded
{
    public static ReportData Data(IReadOnlyList<TrialSpec> trials) => Read(trials).Data;

    public static (ReportData Data, TranscriptSampler Transcripts) Read(IReadOnlyList<TrialSpec> trials)
    {
        using var temp = new TempDir();
        var run = SyntheticRun.Write(temp.Sub("run"), trials);
        return ReportReader.Read(RunSet.Load([run]));
    }

    public static ReportModel Model(IReadOnlyList<TrialSpec> trials)
    {
        var (data, transcripts) = Read(trials);
        return ReportModel.Build(data, transcripts);
    }
}
