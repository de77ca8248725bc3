using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Tasks;

public class EpisodeJsonTests
{
    public static TheoryData<string> Tasks() => Repo.AllTasks();

    [Theory]
    [MemberData(nameof(Tasks))]
    public void EveryCommittedLine_RoundTrips(string taskId)
    {
        var lines = File.ReadAllLines(Repo.TestSplitPath(taskId));
        Assert.True(lines.Length >= 200);
        for (var i = 0; i < lines.Length; i++)
        {
            var (episode, split) = EpisodeJson.Parse(lines[i], $"test.jsonl:{i + 1}");
            Assert.Equal("test", split);
            Assert.Equal(lines[i], EpisodeJson.ToLine(episode, split));
        }
    }

    [Fact]
    public void AHandBuiltEpisodeWithEveryOptionRoundTrips()
    {
        var evidence = new PassiveEvidence(PassiveEvidence.InterventionalRandom,
        [
            new EvidenceSample(new Intervention("A", 5), [5, -0.25]),
            new EvidenceSample(null, [0.01, -0.03]),
        ]);
        var episode = new Episode("x-1", HandWorlds.HiddenRoot(), "B", 123456789, new EpisodeOptions
        {
            Subset = ["A", "B"],
            HeldoutLink = new DirectedLink("A", "B"),
            ExploreSteps = 3,
            GoalFirst = true,
            AskStructure = true,
            AllowedValues = [2, -2, 7.5],
            Evidence = evidence,
        });

        var line = EpisodeJson.ToLine(episode, "train");
        var (back, split) = EpisodeJson.Parse(line, "mem:1");

        Assert.Equal("train", split);
        Assert.Equal(line, EpisodeJson.ToLine(back, split));
        Assert.Equal<string>(["A", "B"], back.Options.Subset);
        Assert.Equal(new DirectedLink("A", "B"), back.Options.HeldoutLink);
        Assert.Equal(3, back.Options.ExploreSteps);
        Assert.True(back.Options.GoalFirst);
        Assert.True(back.Options.AskStructure);
        Assert.Equal<double>([2.0, -2.0, 7.5], back.Options.AllowedValues);
        Assert.Equal(2, back.Options.Evidence!.Samples.Length);
        Assert.Equal<string>(["U"], back.World.Hidden);
        Assert.Equal(123456789UL, back.Seed);
    }

    [Fact]
    public void AMinimalLineUsesTheDefaults()
    {
        var (episode, split) = EpisodeJson.Parse(
            """{"id":"m","seed":1,"world":{"variables":["A","B"],"edges":[{"from":"A","to":"B","weight":1}]},"target":"B"}""", "m.jsonl:1");

        Assert.Equal("test", split);
        Assert.True(episode.Options.Subset.IsDefault);
        Assert.Null(episode.Options.HeldoutLink);
        Assert.Equal<double>([5.0, -5.0], episode.Options.AllowedValues);
        Assert.False(episode.Options.GoalFirst);
        Assert.Equal(2, episode.ExploreSteps);
    }

    [Fact]
    public void AGoalThatLeavesNothingToSet_IsRejectedOnTheTarget()
    {
        var ex = Assert.Throws<InputException>(() => EpisodeJson.Parse(
            """{"id":"m","seed":1,"world":{"variables":["A","B"]},"target":"B","subset":["B"]}""", "m.jsonl:4"));

        Assert.Equal("m.jsonl:4", ex.Origin);
        Assert.Equal("target", ex.Field);
    }

    [Fact]
    public void AHiddenTarget_IsRejected()
    {
        var ex = Assert.Throws<InputException>(() => EpisodeJson.Parse(
            """{"id":"m","seed":1,"world":{"variables":["A","U"],"edges":[{"from":"U","to":"A","weight":1}],"hidden":["U"]},"target":"U"}""", "m.jsonl:2"));

        Assert.Equal("target", ex.Field);
        Assert.Contains("hidden", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AWorldProblem_NamesItsPathInsideTheLine()
    {
        var ex = Assert.Throws<InputException>(() => EpisodeJson.Parse(
            """{"id":"m","seed":1,"world":{"variables":["A","B"],"edges":[{"from":"A","to":"Q","weight":1}]},"target":"B"}""", "m.jsonl:9"));

        Assert.Equal("m.jsonl:9", ex.Origin);
        Assert.Equal("world.edges[0].to", ex.Field);
    }
}
