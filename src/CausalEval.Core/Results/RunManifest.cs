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
        var file = JsonInput.Load(path, CoreJsonContext.Default.RunManifestFile);
        return new RunManifest
        {
            RunId = file.RunId,
            Status = RunStatusNames.Parse(file.Status)
                ?? throw new InputException(path, "status", "expected running, finished, failed, interrupted or stopped-by-budget"),
            CommandLine = JsonInput.NoNullItems(file.CommandLine, path, "command_line"),
            ToolVersion = file.ToolVersion,
            GitRevision = file.GitRevision,
            Tasks = [.. JsonInput.NoNullItems(file.Tasks, path, "tasks").Select((t, i) => new ManifestTask(
                t.Id, JsonInput.InRange(t.Version, 1, int.MaxValue, path, $"tasks[{i}].version"), t.Split,
                JsonInput.InRange(t.Episodes, 1, int.MaxValue, path, $"tasks[{i}].episodes"), t.DatasetSha256))],
            Models = JsonInput.NoNullItems(file.Models, path, "models"),
            PromptVariants = file.PromptVariants,
            Naming = file.Naming,
            ModelNames = file.ModelNames ?? new Dictionary<string, string>(),
            Seed = file.Seed,
            Epochs = JsonInput.InRange(file.Epochs, 1, int.MaxValue, path, "epochs"),
            Concurrency = JsonInput.InRange(file.Concurrency, 1, int.MaxValue, path, "concurrency"),
            TrialsPlanned = JsonInput.AtLeast(file.TrialsPlanned, 0, path, "trials_planned"),
            Observer = file.Observer ?? false,
            Shard = file.Shard is { } shard ? RunShard.Parse(shard, path, "shard") : null,
            TrialsWritten = file.TrialsWritten is { } written ? JsonInput.AtLeast(written, 0, path, "trials_written") : 0,
            TrialErrors = file.TrialErrors is { } errors ? JsonInput.AtLeast(errors, 0, path, "trial_errors") : 0,
            StartedAt = file.StartedAt,
            CostUsd = file.CostUsd ?? 0,
            MaxCostUsd = file.MaxCostUsd,
            CallPolicyJson = file.CallPolicy is { } policy
                ? policy.ValueKind == JsonValueKind.Object ? policy.GetRawText() : throw new InputException(path, "call_policy", "expected an object")
                : null,
            FailureReason = file.FailureReason,
        };
    }

    /// <summary>Writes the manifest atomically (temp file, then rename), so a reader never sees half of it.</summary>
    public void Save(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        var temp = path + ".tmp";
        JsonElement? policy = null;
        if (CallPolicyJson is not null)
        {
            using var document = JsonDocument.Parse(CallPolicyJson);
            policy = document.RootElement.Clone();
        }
        var file = new RunManifestFile
        {
            RunId = RunId,
            Status = Status.Name(),
            CommandLine = CommandLine,
            ToolVersion = ToolVersion,
            GitRevision = GitRevision,
            Tasks = [.. Tasks.Select(t => new RunManifestFile.TaskEntry(t.Id, t.Version, t.Split, t.Episodes, t.DatasetSha256))],
            Models = Models,
            ModelNames = ModelNames.Count > 0
                ? Models.Where(ModelNames.ContainsKey).Distinct(StringComparer.Ordinal).ToDictionary(m => m, m => ModelNames[m], StringComparer.Ordinal)
                : null,
            PromptVariants = PromptVariants,
            Naming = Naming,
            Seed = Seed,
            Epochs = Epochs,
            Concurrency = Concurrency,
            TrialsPlanned = TrialsPlanned,
            Observer = Observer,
            Shard = Shard?.ToString(),
            TrialsWritten = TrialsWritten,
            TrialErrors = TrialErrors,
            CostUsd = Math.Round(CostUsd, 6),
            MaxCostUsd = MaxCostUsd,
            Usage = new RunManifestFile.UsageEntry(Usage.InputTokens, Usage.OutputTokens, Usage.CachedInputTokens, Usage.CachedOutputTokens,
                Usage.PromptCacheTokens, Usage.PromptCacheWriteTokens, Usage.UnmeteredAttempts),
            CallPolicy = policy,
            FailureReason = FailureReason,
            StoppedModels = StoppedModels.Count > 0 ? new Dictionary<string, string>(StoppedModels, StringComparer.Ordinal) : null,
            StartedAt = StartedAt,
            FinishedAt = FinishedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
        File.WriteAllText(temp, JsonInput.ToIndented(file, CoreJsonContext.Default.RunManifestFile));
        File.Move(temp, path, overwrite: true);
    }
}
