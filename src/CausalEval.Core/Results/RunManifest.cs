using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Running;

namespace CausalEval.Core.Results;

/// <summary>A task as a run used it: id, version, split, how many episodes, and the dataset's sha256.</summary>
public sealed record ManifestTask(string Id, int Version, string Split, int Episodes, string DatasetSha256);

/// <summary><c>run.json</c>: what was run, with what, and how it ended (DESIGN §2.4).</summary>
public sealed record RunManifest
{
    public const string FileName = "run.json";

    public required string RunId { get; init; }
    public required IReadOnlyList<string> CommandLine { get; init; }
    public required string ToolVersion { get; init; }
    public required string GitRevision { get; init; }
    public required IReadOnlyList<ManifestTask> Tasks { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public required IReadOnlyList<string?> PromptVariants { get; init; }

    /// <summary>Display names of models (<c>model_names</c>: id → name); the ids in <see cref="Models"/> keep their settings.</summary>
    public IReadOnlyDictionary<string, string> ModelNames { get; init; } = new Dictionary<string, string>();

    /// <summary>Variable naming scheme of the prompted models; null when the run has none.</summary>
    public string? Naming { get; init; }
    public required ulong Seed { get; init; }
    public required int Epochs { get; init; }
    public required int Concurrency { get; init; }
    public required long TrialsPlanned { get; init; }

    /// <summary>Whether trials were scored by the ideal observer (<c>observer</c>; absent in older runs: they were not).</summary>
    public bool Observer { get; init; }

    /// <summary>The shard of the plan this run plays (<c>--shard K/N</c>); null: the whole plan.</summary>
    public RunShard? Shard { get; init; }
    public long TrialsWritten { get; init; }
    public long TrialErrors { get; init; }

    public required RunStatus Status { get; init; }

    /// <summary>US dollars spent on the trials written (the sum of their <c>cost</c>).</summary>
    public double CostUsd { get; init; }

    /// <summary>The spending cap (<c>--max-cost</c>); null: none.</summary>
    public double? MaxCostUsd { get; init; }

    /// <summary>Tokens of the trials written: billed, and served from the response cache.</summary>
    public Usage Usage { get; init; }

    /// <summary>
    /// How model calls were made — response cache, retries and timeouts, concurrency and rate limits, the prices used —
    /// as a JSON object (written under <c>call_policy</c>, read back by <c>--resume</c>); null for runs without chat models.
    /// </summary>
    public string? CallPolicyJson { get; init; }

    /// <summary>Why the run ended failed besides trial errors (a dead endpoint, a failed write); null: no such reason.</summary>
    public string? FailureReason { get; init; }

    /// <summary>Models whose remaining trials were not scheduled (their endpoint stayed unreachable), with why (<c>stopped_models</c>).</summary>
    public IReadOnlyDictionary<string, string> StoppedModels { get; init; } = new Dictionary<string, string>();

    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Reads <c>run.json</c> back (for <c>--resume</c>); problems are bad input naming the file and field.</summary>
    public static RunManifest Load(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path))
        {
            throw new InputException(path, "$", "no run manifest here: is this a run folder?");
        }
        var root = JsonRead.Parse(path, JsonRead.ReadFile(path)).Object();
        return new RunManifest
        {
            RunId = root.Required("run_id").String(),
            Status = RunStatusNames.Parse(root.Required("status").String())
                ?? throw new InputException(path, "status", "expected running, finished, failed, interrupted or stopped-by-budget"),
            CommandLine = [.. root.Required("command_line").Array().Select(a => a.String())],
            ToolVersion = root.Required("tool_version").String(),
            GitRevision = root.Required("git_revision").String(),
            Tasks = [.. root.Required("tasks").Array().Select(t => new ManifestTask(
                t.Required("id").String(), t.Required("version").Int(1), t.Required("split").String(),
                t.Required("episodes").Int(1), t.Required("dataset_sha256").String()))],
            Models = [.. root.Required("models").Array().Select(m => m.String())],
            PromptVariants = [.. root.Required("prompt_variants").Array().Select(v => v.Element.ValueKind == System.Text.Json.JsonValueKind.Null ? null : v.String())],
            Naming = root.Optional("naming")?.String(),
            ModelNames = root.Optional("model_names") is { } names
                ? names.Object().Element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String
                    ? p.Value.GetString()!
                    : throw new InputException(path, $"model_names.{p.Name}", "expected the model's display name (a string)"), StringComparer.Ordinal)
                : new Dictionary<string, string>(),
            Seed = root.Required("seed").UInt64(),
            Epochs = root.Required("epochs").Int(1),
            Concurrency = root.Required("concurrency").Int(1),
            TrialsPlanned = root.Required("trials_planned").Long(0),
            Observer = root.Optional("observer")?.Bool() ?? false,
            Shard = root.Optional("shard") is { } shard ? RunShard.Parse(shard.String(), path, "shard") : null,
            TrialsWritten = root.Optional("trials_written")?.Long(0) ?? 0,
            TrialErrors = root.Optional("trial_errors")?.Long(0) ?? 0,
            StartedAt = DateTimeOffset.Parse(root.Required("started_at").String(), System.Globalization.CultureInfo.InvariantCulture),
            CostUsd = root.Optional("cost_usd")?.Number() ?? 0,
            MaxCostUsd = root.Optional("max_cost_usd")?.Number(),
            CallPolicyJson = root.Optional("call_policy") is { } policy ? policy.Object().Element.GetRawText() : null,
            FailureReason = root.Optional("failure_reason")?.String(),
        };
    }

    /// <summary>Writes the manifest atomically (temp file, then rename), so a reader never sees half of it.</summary>
    public void Save(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("run_id", RunId);
            writer.WriteString("status", Status.Name());
            writer.WriteStrings("command_line", CommandLine);
            writer.WriteString("tool_version", ToolVersion);
            writer.WriteString("git_revision", GitRevision);
            writer.WriteStartArray("tasks");
            foreach (var task in Tasks)
            {
                writer.WriteStartObject();
                writer.WriteString("id", task.Id);
                writer.WriteNumber("version", task.Version);
                writer.WriteString("split", task.Split);
                writer.WriteNumber("episodes", task.Episodes);
                writer.WriteString("dataset_sha256", task.DatasetSha256);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStrings("models", Models);
            if (ModelNames.Count > 0)
            {
                writer.WriteStartObject("model_names");
                foreach (var model in Models.Where(ModelNames.ContainsKey))
                {
                    writer.WriteString(model, ModelNames[model]);
                }
                writer.WriteEndObject();
            }
            writer.WriteStrings("prompt_variants", PromptVariants);
            writer.WriteStringOrNull("naming", Naming);
            writer.WriteNumber("seed", Seed);
            writer.WriteNumber("epochs", Epochs);
            writer.WriteNumber("concurrency", Concurrency);
            writer.WriteNumber("trials_planned", TrialsPlanned);
            writer.WriteBoolean("observer", Observer);
            if (Shard is { } shard)
            {
                writer.WriteString("shard", shard.ToString());
            }
            writer.WriteNumber("trials_written", TrialsWritten);
            writer.WriteNumber("trial_errors", TrialErrors);
            writer.WriteNumber("cost_usd", Math.Round(CostUsd, 6));
            writer.WriteNumberOrNull("max_cost_usd", MaxCostUsd);
            writer.WriteUsage("usage", Usage, withCached: true);
            if (CallPolicyJson is not null)
            {
                writer.WritePropertyName("call_policy");
                using var policy = JsonDocument.Parse(CallPolicyJson);
                policy.RootElement.WriteTo(writer);
            }
            if (FailureReason is not null)
            {
                writer.WriteString("failure_reason", FailureReason);
            }
            if (StoppedModels.Count > 0)
            {
                writer.WriteStartObject("stopped_models");
                foreach (var (model, why) in StoppedModels)
                {
                    writer.WriteString(model, why);
                }
                writer.WriteEndObject();
            }
            writer.WriteString("started_at", StartedAt);
            writer.WriteStringOrNull("finished_at", FinishedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        File.Move(temp, path, overwrite: true);
    }
}
