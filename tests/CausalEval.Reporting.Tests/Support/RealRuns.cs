using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;

namespace CausalEval.Reporting.Tests.Support;

/// <summary>Real runs of the built-in agents on the repository's committed splits, for the views that need true worlds.</summary>
internal static class RealRuns
{
    /// <summary>The expert, random and Bayes agents on the first <paramref name="episodes"/> test episodes of each task.</summary>
    public static string Play(string directory, IReadOnlyList<string> taskIds, int episodes)
    {
        var catalog = TaskCatalog.Locate(Datasets());
        var tasks = taskIds.Select(id => new TaskEpisodes(catalog.Load(id), [.. catalog.LoadSplit(id, "test", episodes)])).ToList();
        var plan = new RunPlan
        {
            Tasks = [.. tasks.Select(t => t.Task)],
            Models = ["builtin/expert", "builtin/random", "builtin/bayes"],
            Episodes = episodes,
            Concurrency = 2,
        };
        using (var session = RunSession.Start(plan, tasks, catalog, new RunIdentity(), directory, TimeProvider.System))
        {
            session.RunAsync(new ModelCatalog([new BuiltinModelProvider()]), TimeProvider.System).GetAwaiter().GetResult();
        }
        return directory;
    }

    /// <summary>The repository's datasets folder (found upwards from the test binaries).</summary>
    public static string Datasets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "datasets", "explore-exploit", "task.json")))
            {
                return Path.Combine(dir.FullName, "datasets");
            }
        }
        throw new InvalidOperationException("the repository's datasets folder was not found");
    }
}
