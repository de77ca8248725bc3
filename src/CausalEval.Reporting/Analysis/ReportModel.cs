using CausalEval.Reporting.Input;

namespace CausalEval.Reporting.Analysis;

/// <summary>Everything a report shows, computed once and written as Markdown, CSV, plots and HTML.</summary>
internal sealed record ReportModel(
    ReportData Data,
    IReadOnlyList<LeaderboardRow> Overall,
    IReadOnlyList<(string Task, IReadOnlyList<LeaderboardRow> Rows)> ByTask,
    IReadOnlyList<ComparisonRow> Comparisons,
    AblationResult? Ablation,
    IReadOnlyList<byte[]> Transcripts,
    IReadOnlyDictionary<string, int> TranscriptEpisodes)
{
    public static ReportModel Build(ReportData data, TranscriptSampler transcripts)
    {
        var overall = LeaderboardAnalysis.Build(data, task: null);
        var byTask = Enumerable.Range(0, data.TaskIds.Count)
            .OrderBy(t => data.TaskIds[t], StringComparer.Ordinal)
            .Select(t => (data.TaskIds[t], (IReadOnlyList<LeaderboardRow>)LeaderboardAnalysis.Build(data, t)))
            .Where(t => t.Item2.Count > 0)
            .ToList();
        var comparisons = ComparisonAnalysis.Build(data, overall);
        var ablation = AblationAnalysis.Build(data);
        var (trials, episodes) = transcripts.Result();
        return new ReportModel(data, overall, byTask, comparisons, ablation, trials, episodes);
    }

    /// <summary>Any entry has a prompt variant / naming scheme / structure score: otherwise tables leave those columns out.</summary>
    public bool HasVariants => Overall.Any(r => r.Entry.Variant is not null);

    public bool HasNamings => Overall.Any(r => r.Entry.Naming is not null);

    public bool HasStructure => Overall.Any(r => r.StructureF1 is not null);

    /// <summary>Some task is an odd-one-out one: the legend then says what the scores mean for that family.</summary>
    public bool HasOddOneOut => Data.OddOneOutTasks.Count > 0;

    public bool IsOddOneOut(string task) => Data.TryGetTask(task, out var index) && Data.OddOneOutTasks.Contains(index);

    /// <summary>Some trials carry the ideal observer's regret decomposition.</summary>
    public bool HasObserver => Overall.Any(r => r.EvidenceValue is not null);
}
