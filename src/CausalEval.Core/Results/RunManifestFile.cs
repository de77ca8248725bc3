using System.Text.Json;
using System.Text.Json.Serialization;

namespace CausalEval.Core.Results;

/// <summary>
/// <c>run.json</c> as written (System.Text.Json source generation; field order is the file's). Unknown fields are
/// skipped on read, as they always were, so a folder written by another version still resumes.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record RunManifestFile
{
    public required string RunId { get; init; }
    public required string Status { get; init; }
    public required IReadOnlyList<string?> CommandLine { get; init; }
    public required string ToolVersion { get; init; }
    public required string GitRevision { get; init; }
    public required IReadOnlyList<TaskEntry?> Tasks { get; init; }
    public required IReadOnlyList<string?> Models { get; init; }

    /// <summary>Written only when a model has a display name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? ModelNames { get; init; }
    public required IReadOnlyList<string?> PromptVariants { get; init; }
    public string? Naming { get; init; }
    public required ulong Seed { get; init; }
    public required int Epochs { get; init; }
    public required int Concurrency { get; init; }
    public required long TrialsPlanned { get; init; }
    public bool? Observer { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Shard { get; init; }
    public long? TrialsWritten { get; init; }
    public long? TrialErrors { get; init; }
    public double? CostUsd { get; init; }
    public double? MaxCostUsd { get; init; }
    public UsageEntry? Usage { get; init; }

    /// <summary>The call policy's own JSON (CausalEval.Models writes and reads it), embedded as is.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? CallPolicy { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FailureReason { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? StoppedModels { get; init; }
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Round-trip ("O") text, seven fraction digits, as it always was (started_at is the writer's trimmed form).</summary>
    public string? FinishedAt { get; init; }

    internal sealed record TaskEntry(string Id, int Version, string Split, int Episodes, [property: JsonPropertyName("dataset_sha256")] string DatasetSha256);

    /// <summary>Tokens; the prompt-cache counts and unmetered attempts only when not 0, so other runs' files stay as they were.</summary>
    internal sealed record UsageEntry(
        long InputTokens,
        long OutputTokens,
        long CachedInputTokens,
        long CachedOutputTokens,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long PromptCacheTokens = 0,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long PromptCacheWriteTokens = 0,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long UnmeteredAttempts = 0);
}
