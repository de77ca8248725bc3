using CausalEval.Core;
using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Input;

/// <summary>One run folder: its manifest and its <c>trials.jsonl</c>.</summary>
internal sealed record RunSource(int Index, string Directory, RunManifest Manifest, string TrialsPath);

/// <summary>
/// The run folders a report covers. Runs merge only when every task they share has the same version and the same
/// test split (dataset sha256): otherwise their episodes are not the same episodes and pooling them would mislead.
/// </summary>
internal sealed class RunSet
{
    private RunSet(IReadOnlyList<RunSource> runs, IReadOnlyList<ManifestTask> tasks)
    {
        Runs = runs;
        Tasks = tasks;
    }

    public IReadOnlyList<RunSource> Runs { get; }

    /// <summary>Every task of every run, once, in order of first appearance.</summary>
    public IReadOnlyList<ManifestTask> Tasks { get; }

    public static RunSet Load(IReadOnlyList<string> directories)
    {
        if (directories.Count == 0)
        {
            throw new InputException("RUN_DIR", "$", "give at least one run folder");
        }
        var runs = new List<RunSource>();
        var tasks = new Dictionary<string, (ManifestTask Task, string Directory)>(StringComparer.Ordinal);
        var order = new List<ManifestTask>();
        foreach (var directory in directories)
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
            if (runs.Any(r => r.Directory == full))
            {
                throw new InputException(directory, "RUN_DIR", "this run folder is given twice");
            }
            if (!System.IO.Directory.Exists(full))
            {
                throw new InputException(directory, "RUN_DIR", "no such folder");
            }
            var manifest = RunManifest.Load(full);
            var trials = Path.Combine(full, JsonlResultStore.FileName);
            if (!File.Exists(trials))
            {
                throw new InputException(trials, "$", "no trials file: the run wrote no trial yet");
            }
            var manifestPath = Path.Combine(full, RunManifest.FileName);
            foreach (var (task, i) in manifest.Tasks.Select((t, i) => (t, i)))
            {
                if (!tasks.TryGetValue(task.Id, out var seen))
                {
                    tasks[task.Id] = (task, full);
                    order.Add(task);
                    continue;
                }
                var other = Path.Combine(seen.Directory, RunManifest.FileName);
                if (seen.Task.Version != task.Version)
                {
                    throw new InputException(manifestPath, $"tasks[{i}].version",
                        $"{task.Id} is version {task.Version} here but version {seen.Task.Version} in {other}; runs of different task versions do not merge into one report");
                }
                if (!string.Equals(seen.Task.DatasetSha256, task.DatasetSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InputException(manifestPath, $"tasks[{i}].dataset_sha256",
                        $"the test split of {task.Id} differs from the one in {other} ({Short(task.DatasetSha256)}… vs {Short(seen.Task.DatasetSha256)}…); runs over different episodes do not merge into one report");
                }
                if (seen.Task.Split != task.Split)
                {
                    throw new InputException(manifestPath, $"tasks[{i}].split",
                        $"{task.Id} used the {task.Split} split here but the {seen.Task.Split} split in {other}; they do not merge into one report");
                }
            }
            runs.Add(new RunSource(runs.Count, full, manifest, trials));
        }
        return new RunSet(runs, order);
    }

    /// <summary>
    /// Warnings for sharded studies given only in part: runs sharded N ways over the same plan (tasks, models, prompt
    /// variants, naming, epochs, seed) are one study, and each shard it lacks is named.
    /// </summary>
    public IEnumerable<string> MissingShards()
    {
        var studies = Runs.Where(r => r.Manifest.Shard is not null).GroupBy(r => StudyKey(r.Manifest), StringComparer.Ordinal);
        foreach (var study in studies)
        {
            var count = study.First().Manifest.Shard!.Value.Count;
            var present = study.Select(r => r.Manifest.Shard!.Value.Index).ToHashSet();
            var missing = Enumerable.Range(1, count).Where(k => !present.Contains(k)).ToList();
            if (missing.Count > 0)
            {
                yield return $"run {study.First().Manifest.RunId} is shard {study.First().Manifest.Shard} of a study whose shard(s) " +
                    $"{string.Join(", ", missing.Select(k => $"{k}/{count}"))} were not given: the report covers {present.Count} of its {count} shards";
            }
        }
    }

    private static string StudyKey(RunManifest m) => string.Join('\n',
        [$"{m.Shard!.Value.Count}", $"{m.Seed}", $"{m.Epochs}", m.Naming ?? "-", string.Join(',', m.Models), string.Join(',', m.PromptVariants.Select(v => v ?? "-")),
            .. m.Tasks.Select(t => $"{t.Id}:{t.Version}:{t.Split}:{t.Episodes}:{t.DatasetSha256}")]);

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
