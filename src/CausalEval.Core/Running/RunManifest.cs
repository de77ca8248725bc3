using System.Text.Json;
using CausalEval.Core.Json;

namespace CausalEval.Core.Running;

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
    public required ulong Seed { get; init; }
    public required int Epochs { get; init; }
    public required int Concurrency { get; init; }
    public required long TrialsPlanned { get; init; }
    public long TrialsWritten { get; init; }
    public long TrialErrors { get; init; }

    /// <summary>running, finished, interrupted or failed.</summary>
    public required string Status { get; init; }

    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

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
            writer.WriteString("status", Status);
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
            writer.WriteStrings("prompt_variants", PromptVariants);
            writer.WriteNumber("seed", Seed);
            writer.WriteNumber("epochs", Epochs);
            writer.WriteNumber("concurrency", Concurrency);
            writer.WriteNumber("trials_planned", TrialsPlanned);
            writer.WriteNumber("trials_written", TrialsWritten);
            writer.WriteNumber("trial_errors", TrialErrors);
            writer.WriteString("started_at", StartedAt);
            writer.WriteStringOrNull("finished_at", FinishedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        File.Move(temp, path, overwrite: true);
    }
}
