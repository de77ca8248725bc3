using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using static CausalEval.Core.Tests.Support.Steps;

namespace CausalEval.Core.Tests.Scoring;

public class SubsetAdherenceScorerTests
{
    private static readonly Episode Cued = Episode(HandWorlds.FiveWithHidden(), "D", new EpisodeOptions { Subset = Subset("A", "B", "C") });

    private static double? Adherence(Episode episode, params StepRecord[] steps)
        => new SubsetAdherenceScorer().Score(new ScoringInput(episode, Transcript(steps)), new Scores()).SubsetAdherence;

    [Fact]
    public void AllInside_IsOne()
    {
        Assert.Equal(1.0, Adherence(Cued, Explore(0, "A", 5), Explore(1, "A", -5), Explore(2, "C", 5)));
    }

    [Fact]
    public void ItIsTheShareOfExploreActionsInsideTheSubset()
    {
        Assert.Equal(0.5, Adherence(Cued, Explore(0, "A", 5), Explore(1, "D", 5), Explore(2, "B", 5), Explore(3, "E", -5)));
    }

    [Fact]
    public void InvalidActionsThatNameAVariableCount_UnreadableAnswersDoNot()
    {
        var adherence = Adherence(Cued,
            Explore(0, "B", 3, StepStatus.Invalid), // inside, though the value was not allowed
            Explore(1, "U", 5, StepStatus.Invalid), // outside (hidden)
            ExploreUnreadable(2),                   // names nothing: not counted
            Explore(3, "C", 5));

        Assert.Equal(2 / 3.0, adherence);
    }

    [Fact]
    public void TheExploitActionIsNotAnExploreAction()
    {
        Assert.Equal(1.0, Adherence(Cued, Explore(0, "A", 5), Exploit(1, "E", 5)));
    }

    [Fact]
    public void WithoutASubset_ItDoesNotApply()
    {
        var episode = Episode(HandWorlds.FiveWithHidden(), "D");

        Assert.Null(Adherence(episode, Explore(0, "A", 5), Exploit(1, "A", 5)));
    }

    [Fact]
    public void WithoutAnyExploreAction_ItIsUndefined()
    {
        Assert.Null(Adherence(Cued, ExploreUnreadable(0), Exploit(1, "A", 5)));
    }
}
