using CausalEval.Core;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Input;

public sealed class RunSetTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private static List<TrialSpec> Trials(string model, params string[] tasks)
        => [.. tasks.Select(task => new TrialSpec { Task = task, Episode = "test-0000", Model = model })];

    [Fact]
    public void Runs_merge_when_the_tasks_they_share_have_the_same_version_and_dataset()
    {
        var a = SyntheticRun.Write(_temp.Sub("a"), Trials("builtin/expert", "explore-exploit", "passive-exploit-observational"));
        var b = SyntheticRun.Write(_temp.Sub("b"), Trials("openai/x", "explore-exploit"));

        var runs = RunSet.Load([a, b]);

        Assert.Equal(2, runs.Runs.Count);
        Assert.Equal(["explore-exploit", "passive-exploit-observational"], runs.Tasks.Select(t => t.Id));
    }

    [Fact]
    public void A_task_version_mismatch_is_refused_naming_the_manifest_and_field()
    {
        var a = SyntheticRun.Write(_temp.Sub("a"), Trials("builtin/expert", "explore-exploit"));
        var b = SyntheticRun.Write(_temp.Sub("b"), Trials("openai/x", "explore-exploit"), tasks: new Dictionary<string, (int, string)> { ["explore-exploit"] = (2, "sha-explore-exploit") });

        var error = Assert.Throws<InputException>(() => RunSet.Load([a, b]));

        Assert.Equal(Path.Combine(b, "run.json"), error.Origin);
        Assert.Equal("tasks[0].version", error.Field);
        Assert.Contains("explore-exploit is version 2 here but version 1 in", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dataset_mismatch_is_refused()
    {
        var a = SyntheticRun.Write(_temp.Sub("a"), Trials("builtin/expert", "explore-exploit"));
        var b = SyntheticRun.Write(_temp.Sub("b"), Trials("openai/x", "explore-exploit"), tasks: new Dictionary<string, (int, string)> { ["explore-exploit"] = (1, "another-sha") });

        var error = Assert.Throws<InputException>(() => RunSet.Load([a, b]));

        Assert.Equal("tasks[0].dataset_sha256", error.Field);
        Assert.Contains("do not merge", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_a_manifest_or_trials_or_given_twice_is_bad_input()
    {
        Directory.CreateDirectory(_temp.Sub("empty"));
        Assert.Contains("no run manifest", Assert.Throws<InputException>(() => RunSet.Load([_temp.Sub("empty")])).Problem, StringComparison.Ordinal);

        var a = SyntheticRun.Write(_temp.Sub("a"), Trials("builtin/expert", "explore-exploit"));
        Assert.Contains("given twice", Assert.Throws<InputException>(() => RunSet.Load([a, a + "/"])).Problem, StringComparison.Ordinal);

        File.Delete(Path.Combine(a, "trials.jsonl"));
        Assert.Contains("no trials file", Assert.Throws<InputException>(() => RunSet.Load([a])).Problem, StringComparison.Ordinal);
        Assert.Throws<InputException>(() => RunSet.Load([_temp.Sub("missing")]));
    }
}
