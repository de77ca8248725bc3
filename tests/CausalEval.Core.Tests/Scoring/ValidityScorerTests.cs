using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using static CausalEval.Core.Tests.Support.Steps;

namespace CausalEval.Core.Tests.Scoring;

public class ValidityScorerTests
{
    private static readonly Episode Fork = Episode(HandWorlds.ConfoundedFork(), "B", new EpisodeOptions { AskStructure = true });

    private static Scores Score(params StepRecord[] steps)
        => new ValidityScorer().Score(new ScoringInput(Fork, Transcript(steps)), new Scores());

    [Fact]
    public void InvalidActionsAndParseFailures_AreCountedApart()
    {
        var s = Score(
            Explore(0, "Q", 5, StepStatus.Invalid),
            ExploreUnreadable(1),
            Explore(2, "A", 3, StepStatus.Invalid),
            Exploit(3, "B", 5, StepStatus.Invalid),
            Structure(4, StepStatus.Invalid, "A->Q"));

        Assert.Equal(4, s.InvalidActions);
        Assert.Equal(1, s.ParseFailures);
    }

    [Fact]
    public void UnreadableExploitAndStructureAnswers_AreParseFailures()
    {
        var s = Score(Explore(0, "A", 5), ExploitUnreadable(1),
            new StepRecord(2, Phase.Structure, new AgentDecision { ParseError = "no EDGES line" }, StepStatus.ParseFailure, "no EDGES line", default));

        Assert.Equal(0, s.InvalidActions);
        Assert.Equal(2, s.ParseFailures);
    }

    [Fact]
    public void AllValid_IsZeroAndZero()
    {
        var s = Score(Explore(0, "A", 5), Explore(1, "C", -5), Exploit(2, "C", 5), Structure(3, StepStatus.Valid, "C->A"));

        Assert.Equal(0, s.InvalidActions);
        Assert.Equal(0, s.ParseFailures);
    }

    [Fact]
    public void AnInvalidExploit_IsCountedAndNotSilentlyAWrongAnswer()
    {
        var s = EpisodeScoring.Score(new ScoringInput(Fork, Transcript(Exploit(0, "B", 5, StepStatus.Invalid))));

        Assert.Equal(1, s.InvalidActions);
        Assert.Null(s.ExploitValue);
        Assert.Null(s.Normalized);
    }
}
