using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;
using static CausalEval.Core.Tests.Support.Steps;

namespace CausalEval.Core.Tests.Scoring;

public class ExploreCoverageScorerTests
{
    private static double? Coverage(Episode episode, params StepRecord[] steps)
        => new ExploreCoverageScorer().Score(new ScoringInput(episode, Transcript(steps)), new Scores()).ExploreCoverage;

    [Fact]
    public void EveryVariableOnce_IsFullCoverage()
    {
        var episode = Episode(HandWorlds.FiveWithHidden(), "D");

        Assert.Equal(1.0, Coverage(episode, Explore(0, "A", 5), Explore(1, "B", 5), Explore(2, "C", -5), Explore(3, "D", 5), Explore(4, "E", 5)));
    }

    [Fact]
    public void RepeatVisits_CountOnce()
    {
        var episode = Episode(HandWorlds.FiveWithHidden(), "D"); // 5 observable variables

        Assert.Equal(2 / 5.0, Coverage(episode, Explore(0, "A", 5), Explore(1, "A", -5), Explore(2, "A", 5), Explore(3, "B", 5), Explore(4, "B", 5)));
    }

    [Fact]
    public void VisitsOutsideTheCuedSubset_DoNotCount()
    {
        var episode = Episode(HandWorlds.FiveWithHidden(), "D", new EpisodeOptions { Subset = Subset("A", "B", "C") });

        Assert.Equal(1 / 3.0, Coverage(episode, Explore(0, "A", 5), Explore(1, "D", 5), Explore(2, "E", 5)));
    }

    [Fact]
    public void InvalidAndUnreadableSteps_DoNotCount()
    {
        var episode = Episode(HandWorlds.FiveWithHidden(), "D", new EpisodeOptions { Subset = Subset("A", "B", "C") });

        var coverage = Coverage(episode,
            Explore(0, "B", 3, StepStatus.Invalid), // disallowed value
            ExploreUnreadable(1),
            Explore(2, "C", 5));

        Assert.Equal(1 / 3.0, coverage);
    }

    [Fact]
    public void ExploitActions_DoNotCountAsExploration()
    {
        var episode = Episode(HandWorlds.Collider(), "C");

        Assert.Equal(1 / 3.0, Coverage(episode, Explore(0, "A", 5), Exploit(1, "B", 5)));
    }

    [Fact]
    public void NoExplorationAtAll_IsZero()
    {
        var episode = Episode(HandWorlds.Collider(), "C");

        Assert.Equal(0.0, Coverage(episode, Exploit(0, "B", 5)));
    }

    [Fact]
    public void PassiveEpisodes_HaveNoCoverage()
    {
        var evidence = new PassiveEvidence(PassiveEvidence.Observational, [new EvidenceSample(null, [0.1, 0.2, 0.3])]);
        var episode = Episode(HandWorlds.Collider(), "C", new EpisodeOptions { Evidence = evidence });

        Assert.Equal(0, episode.ExploreSteps);
        Assert.Null(Coverage(episode, Exploit(0, "A", 5)));
    }

    [Fact]
    public void ZeroExploreSteps_HaveNoCoverage()
    {
        var episode = Episode(HandWorlds.Collider(), "C", new EpisodeOptions { ExploreSteps = 0 });

        Assert.Null(Coverage(episode, Exploit(0, "A", 5)));
    }

    [Fact]
    public void HiddenVariables_AreNotPartOfTheDenominator()
    {
        var world = World.Create(["A", "B", "U"], [new Edge("U", "A", 1), new Edge("U", "B", 1)], 0.1, ImmutableArray.Create("U"));
        var episode = Episode(world, "B");

        Assert.Equal(0.5, Coverage(episode, Explore(0, "A", 5), Explore(1, "U", 5, StepStatus.Invalid)));
    }

    [Fact]
    public void CoverageCountsEveryVariableInAWorldWithMoreThan64Variables()
    {
        var names = Enumerable.Range(0, 70).Select(i => $"X{i}").ToArray();
        var world = World.Create(names, [new Edge("X0", "X69", 1)], 0.1);
        var episode = Episode(world, "X69");

        var coverage = Coverage(episode, Explore(0, "X0", 5), Explore(1, "X64", 5));

        Assert.Equal(2 / 70.0, coverage);
    }
}
