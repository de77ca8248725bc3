using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

public sealed class ModelEntryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"model-entry-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Theory]
    [InlineData("openai/gpt-4o?temperature=0.2&seed=1", "openai/gpt-4o?temperature=0.2&seed=1", null)]
    [InlineData("gpt4o-t0=openai/gpt-4o?temperature=0", "openai/gpt-4o?temperature=0", "gpt4o-t0")]
    [InlineData("Expert (reference) = builtin/expert", "builtin/expert", "Expert (reference)")]
    [InlineData("builtin/expert", "builtin/expert", null)]
    [InlineData("openai-compatible/m@http://h/v1?x=1", "openai-compatible/m@http://h/v1?x=1", null)]
    public void Parse_splits_a_display_name_only_before_the_id(string text, string spec, string? name)
    {
        var entry = ModelEntry.Parse(text, "--model");

        Assert.Equal(spec, entry.Spec);
        Assert.Equal(name, entry.Name);
    }

    [Theory]
    [InlineData("=builtin/expert")]
    [InlineData("name=")]
    [InlineData("a,b=builtin/expert")]
    public void A_malformed_NAME_SPEC_is_bad_input(string text) =>
        Assert.Equal("--model", Assert.Throws<InputException>(() => ModelEntry.Parse(text, "--model")).Origin);

    [Theory]
    [InlineData("same=builtin/expert", "same=builtin/random")]
    [InlineData("E=builtin/expert", " E =builtin/random")]
    [InlineData("a=builtin/expert", "b=builtin/expert")]
    public void Two_models_that_would_show_alike_are_bad_input(string first, string second) =>
        Assert.Throws<InputException>(() => ModelEntry.Collect([first, second], "--model"));

    [Fact]
    public void Collect_keeps_ids_in_order_plays_a_repeated_id_once_and_maps_names_by_id()
    {
        var (specs, names) = ModelEntry.Collect(["E=builtin/expert", "builtin/random", "builtin/random"], "--model");

        Assert.Equal(["builtin/expert", "builtin/random"], specs);
        Assert.Equal(new Dictionary<string, string> { ["builtin/expert"] = "E" }, names);
    }

    [Fact]
    public async Task Trials_and_the_leaderboard_show_the_name_run_json_keeps_the_id_and_a_resume_keeps_both()
    {
        var tasks = new List<TaskEpisodes> { new(Repo.Catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(3)]) };
        var plan = new RunPlan
        {
            Tasks = [tasks[0].Task], Models = ["builtin/expert", "builtin/random"], ModelNames = new Dictionary<string, string> { ["builtin/expert"] = "Expert" },
            Seed = 1, Concurrency = 1,
        };
        var unnamed = await RunSession.Start(plan with { ModelNames = new Dictionary<string, string>() }, tasks, Repo.Catalog,
            new RunIdentity(), Path.Combine(_root, "plain"), new FixedTimeProvider()).RunAsync(Models(), new FixedTimeProvider());
        var session = RunSession.Start(plan, tasks, Repo.Catalog, new RunIdentity(), Path.Combine(_root, "named"), new FixedTimeProvider());

        var result = await session.RunAsync(Models(), new FixedTimeProvider());

        var manifest = RunManifest.Load(result.Directory);
        Assert.Equal(["builtin/expert", "builtin/random"], manifest.Models);
        Assert.Equal("Expert", manifest.ModelNames["builtin/expert"]);
        var trials = TrialLog.Read(session.TrialsPath).ToList();
        Assert.Equal(["Expert", "builtin/random"], trials.Select(t => t.Model).Distinct());
        var lines = File.ReadAllLines(session.TrialsPath);
        Assert.All(lines.Where(l => l.Contains("\"model\":\"Expert\"", StringComparison.Ordinal)),
            l => Assert.Contains("\"model_spec\":\"builtin/expert\"", l, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("\"model\":\"builtin/random\",\"model_spec\"", StringComparison.Ordinal));
        Assert.Contains("| Expert |", result.LeaderboardMarkdown, StringComparison.Ordinal);
        // The name changes nothing else: same trial ids, same scores as the run without names.
        var plain = TrialLog.Read(Path.Combine(unnamed.Directory, JsonlResultStore.FileName)).ToList();
        Assert.Equal(plain.Select(t => (t.TrialId, t.Scores)), trials.Select(t => (t.TrialId, t.Scores)));

        var (resumedPlan, _) = RunSession.ResumedPlan(result.Directory, manifest, Repo.Catalog, _ => false, null);
        Assert.Equal("Expert", resumedPlan.ModelNames["builtin/expert"]);
    }

    private static ModelCatalog Models() => new([new BuiltinModelProvider()]);
}
