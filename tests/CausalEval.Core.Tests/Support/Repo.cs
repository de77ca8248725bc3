using System.Collections.Concurrent;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.Tests.Support;

/// <summary>The repository this test assembly was built from, and its committed datasets (loaded once).</summary>
internal static class Repo
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);
    private static readonly ConcurrentDictionary<string, IReadOnlyList<Episode>> TestSplits = new(StringComparer.Ordinal);

    public static string Root => LazyRoot.Value;

    public static string DatasetsDirectory => Path.Combine(Root, "datasets");

    public static TaskCatalog Catalog => new(DatasetsDirectory);

    /// <summary>The five task ids the suite ships with.</summary>
    public static readonly string[] TaskIds =
    [
        "explore-exploit",
        "explore-exploit-heldout-link",
        "explore-exploit-heldout-subset",
        "passive-exploit-interventional",
        "passive-exploit-observational",
    ];

    /// <summary>The odd-one-out tasks the suite ships with.</summary>
    public static readonly string[] OddOneOutTaskIds = ["odd-one-out", "odd-one-out-confounded", "odd-one-out-heldout-dimension"];

    /// <summary>A committed odd-one-out split.</summary>
    public static IReadOnlyList<Core.OddOneOut.OddOneOutEpisode> Puzzles(string taskId, string split = TaskDefinition.TestSplit)
        => [.. Catalog.LoadEpisodes(Catalog.Load(taskId), split).Cast<Core.OddOneOut.OddOneOutEpisode>()];

    public static TheoryData<string> AllTasks()
    {
        var data = new TheoryData<string>();
        foreach (var id in TaskIds)
        {
            data.Add(id);
        }
        return data;
    }

    public static IReadOnlyList<Episode> TestSplit(string taskId)
        => TestSplits.GetOrAdd(taskId, id => [.. Catalog.LoadTestSplit(id)]);

    /// <summary>A committed split (test or validation), loaded once.</summary>
    public static IReadOnlyList<Episode> Split(string taskId, string split)
        => split == TaskDefinition.TestSplit ? TestSplit(taskId) : TestSplits.GetOrAdd($"{split}/{taskId}", _ => [.. Catalog.LoadSplit(taskId, split)]);

    public static string TestSplitPath(string taskId) => Catalog.TestSplitPath(taskId);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no CausalEval.sln above {AppContext.BaseDirectory}");
    }
}
