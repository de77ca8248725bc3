using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Input;

/// <summary>An episode of a task, numbered in (task, episode id) order so that resampling never depends on file order.</summary>
internal readonly record struct EpisodeRef(int Task, int Episode);

/// <summary>One entry's trials on one task: a cell per episode and every trial's latency.</summary>
internal sealed class EntryTask
{
    public Dictionary<int, EpisodeCell> Cells { get; } = [];

    public List<double> LatenciesMs { get; } = [];
}

/// <summary>Everything read from the run folders, aggregated per (entry, task, episode).</summary>
internal sealed class ReportData
{
    private readonly Dictionary<string, int> _taskIndex = new(StringComparer.Ordinal);
    private readonly List<Dictionary<string, int>> _episodeIndex = [];
    private readonly Dictionary<EntryKey, int> _entryIndex = [];

    public ReportData(RunSet runs)
    {
        Runs = runs;
        foreach (var task in runs.Tasks)
        {
            TaskIndex(task.Id);
        }
    }

    public RunSet Runs { get; }

    public List<string> TaskIds { get; } = [];

    /// <summary>Episode ids per task, by index.</summary>
    public List<List<string>> EpisodeIds { get; } = [];

    public List<EntryKey> Entries { get; } = [];

    /// <summary>Per entry (by index), per task (by index).</summary>
    public List<Dictionary<int, EntryTask>> ByEntry { get; } = [];

    public long Trials { get; private set; }

    public long DuplicateTrials { get; private set; }

    public List<string> Warnings { get; } = [];

    public int TaskIndex(string task)
    {
        if (!_taskIndex.TryGetValue(task, out var index))
        {
            _taskIndex[task] = index = TaskIds.Count;
            TaskIds.Add(task);
            _episodeIndex.Add(new Dictionary<string, int>(StringComparer.Ordinal));
            EpisodeIds.Add([]);
        }
        return index;
    }

    public bool TryGetTask(string task, out int index) => _taskIndex.TryGetValue(task, out index);

    public int EpisodeIndex(int task, string episode)
    {
        var episodes = _episodeIndex[task];
        if (!episodes.TryGetValue(episode, out var index))
        {
            episodes[episode] = index = EpisodeIds[task].Count;
            EpisodeIds[task].Add(episode);
        }
        return index;
    }

    public int EntryIndex(EntryKey entry)
    {
        if (!_entryIndex.TryGetValue(entry, out var index))
        {
            _entryIndex[entry] = index = Entries.Count;
            Entries.Add(entry);
            ByEntry.Add([]);
        }
        return index;
    }

    /// <summary>Tasks some trial of which has odd-one-out scores (<c>informative_experiments</c> is that family's only).</summary>
    public HashSet<int> OddOneOutTasks { get; } = [];

    public void Add(TrialSummary trial, int run, int task, int episode, int entry)
    {
        Trials++;
        if (trial.Scores is { InformativeExperiments: not null })
        {
            OddOneOutTasks.Add(task);
        }
        var byTask = ByEntry[entry];
        if (!byTask.TryGetValue(task, out var entryTask))
        {
            byTask[task] = entryTask = new EntryTask();
        }
        if (!entryTask.Cells.TryGetValue(episode, out var cell))
        {
            entryTask.Cells[episode] = cell = new EpisodeCell();
        }
        cell.Add(trial, run);
        if (double.IsFinite(trial.LatencyMs))
        {
            entryTask.LatenciesMs.Add(trial.LatencyMs);
        }
    }

    public void CountDuplicate() => DuplicateTrials++;

    /// <summary>Rank of each task's id in ordinal order (valid after <see cref="Seal"/>).</summary>
    public int[] TaskRank { get; private set; } = [];

    /// <summary>Orders episodes by (task id, episode id), ordinally: the order clusters are resampled in.</summary>
    public long SortKey(EpisodeRef episode) => ((long)TaskRank[episode.Task] << 32) | (uint)episode.Episode;

    /// <summary>
    /// Ends reading: sorts per-trial outcomes and renumbers episodes by (task id, episode id), the order in which
    /// clusters are resampled, so a report does not depend on the order of lines or run folders.
    /// </summary>
    public void Seal()
    {
        var order = new int[TaskIds.Count][];
        for (var t = 0; t < TaskIds.Count; t++)
        {
            var ids = EpisodeIds[t];
            var sorted = Enumerable.Range(0, ids.Count).OrderBy(i => ids[i], StringComparer.Ordinal).ToArray();
            var newIndex = new int[ids.Count];
            for (var rank = 0; rank < sorted.Length; rank++)
            {
                newIndex[sorted[rank]] = rank;
            }
            order[t] = newIndex;
            EpisodeIds[t] = [.. sorted.Select(i => ids[i])];
            _episodeIndex[t] = EpisodeIds[t].Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        }
        TaskRank = new int[TaskIds.Count];
        var byName = Enumerable.Range(0, TaskIds.Count).OrderBy(t => TaskIds[t], StringComparer.Ordinal).ToArray();
        for (var rank = 0; rank < byName.Length; rank++)
        {
            TaskRank[byName[rank]] = rank;
        }
        foreach (var byTask in ByEntry)
        {
            foreach (var (task, entryTask) in byTask)
            {
                var renumbered = entryTask.Cells.ToDictionary(p => order[task][p.Key], p => p.Value);
                entryTask.Cells.Clear();
                foreach (var (episode, cell) in renumbered)
                {
                    cell.Seal();
                    entryTask.Cells[episode] = cell;
                }
            }
        }
    }

    /// <summary>The scored cells of an entry, on one task or (task null) on all, in (task, episode) order.</summary>
    public List<(EpisodeRef Episode, EpisodeCell Cell)> ScoredCells(int entry, int? task)
    {
        var cells = new List<(EpisodeRef, EpisodeCell)>();
        foreach (var (t, entryTask) in ByEntry[entry].OrderBy(p => TaskRank[p.Key]))
        {
            if (task is { } only && t != only)
            {
                continue;
            }
            foreach (var (episode, cell) in entryTask.Cells.OrderBy(p => p.Key))
            {
                if (cell.Scored > 0)
                {
                    cells.Add((new EpisodeRef(t, episode), cell));
                }
            }
        }
        return cells;
    }
}
