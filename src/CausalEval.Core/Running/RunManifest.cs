using System.Text.Json;

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

    /// <summary>Variable naming scheme of the prompted models; null when the run has none.</summary>
    public string? Naming { get; init; }
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
            writer.WriteStartArray("command_line");
            foreach (var arg in CommandLine)
            {
                writer.WriteStringValue(arg);
            }
            writer.WriteEndArray();
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
            writer.WriteStartArray("models");
            foreach (var model in Models)
            {
                writer.WriteStringValue(model);
            }
            writer.WriteEndArray();
            writer.WriteStartArray("prompt_variants");
            foreach (var variant in PromptVariants)
            {
                if (variant is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteStringValue(variant);
                }
            }
            writer.WriteEndArray();
            if (Naming is null)
            {
                writer.WriteNull("naming");
            }
            else
            {
                writer.WriteString("naming", Naming);
            }
            writer.WriteNumber("seed", Seed);
            writer.WriteNumber("epochs", Epochs);
            writer.WriteNumber("concurrency", Concurrency);
            writer.WriteNumber("trials_planned", TrialsPlanned);
            writer.WriteNumber("trials_written", TrialsWritten);
            writer.WriteNumber("trial_errors", TrialErrors);
            writer.WriteString("started_at", StartedAt);
            if (FinishedAt is { } finished)
            {
                writer.WriteString("finished_at", finished);
            }
            else
            {
                writer.WriteNull("finished_at");
            }
            writer.WriteEndObject();
        }
        File.Move(temp, path, overwrite: true);
    }
}
