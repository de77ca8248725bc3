using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline.Tests;

/// <summary>Small tasks, short trainings and the repository's files for the baseline's tests.</summary>
internal static class BaselineFixtures
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Datasets => Path.Combine(RepoRoot, "datasets");

    public static string DefaultCheckpoint => Path.Combine(RepoRoot, "models", "torch", "default");

    /// <summary>Explore → exploit on 3-variable worlds: three experiments, then one choice.</summary>
    public static TaskDefinition TinyTask { get; } = new()
    {
        Id = "tiny",
        Version = 1,
        Family = TaskDefinition.ExploreExploitFamily,
        Generator = new SignedDagOptions { Variables = 3 },
        Train = new SplitRule(11, 100),
        Test = new SplitRule(12, 10),
    };

    public static TrainingOptions Tiny(int steps, ulong seed = 0) => new()
    {
        Tasks = ["tiny"],
        EpisodesPerTask = 200,
        Steps = steps,
        BatchSize = 32,
        Seed = seed,
        Network = new NetworkShape(1, 2, 32, 64),
    };

    public static TrainingResult Train(TrainingOptions options)
    {
        var data = Demonstrations.Build([TinyTask], options.EpisodesPerTask, options.Data, options.Seed, options.Encoder, HeldOutRules.None);
        return Trainer.Train(data, options, "test");
    }

    /// <summary>The view an agent gets at the exploit step of a tiny test episode after the expert's experiments.</summary>
    public static EpisodeView ExploitView(int index = 0)
    {
        var episode = DatasetGenerator.GenerateEpisode(TinyTask, "test", index);
        var history = new List<StepRecord>();
        for (var i = 0; i < episode.ExploreSteps; i++)
        {
            var variable = episode.World.Observable[i];
            var values = new double[episode.World.Observable.Length];
            values[i] = 5;
            values[(i + 1) % values.Length] = i - 1.5;
            history.Add(new StepRecord(i, Phase.Explore, AgentDecision.Act(new Intervention(variable, 5)), StepStatus.Valid, null, [.. values]));
        }
        return new EpisodeView(episode.Brief, Phase.Exploit, history.Count, episode.Target, history);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root (CausalEval.sln) not found above the test folder");
    }
}
