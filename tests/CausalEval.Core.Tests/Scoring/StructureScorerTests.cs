using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;
using static CausalEval.Core.Tests.Support.Steps;

namespace CausalEval.Core.Tests.Scoring;

public class StructureScorerTests
{
    private static readonly EpisodeOptions Ask = new() { AskStructure = true };

    private static Scores Score(Episode episode, params StepRecord[] steps)
        => new StructureScorer().Score(new ScoringInput(episode, Transcript(steps)), new Scores());

    [Fact]
    public void TheExactGraph_HasF1OneAndShdZero()
    {
        var episode = Episode(HandWorlds.CancellingChain(), "C", Ask);

        var s = Score(episode, Exploit(0, "B", 5), Structure(1, StepStatus.Valid, "A->B", "B->C", "A->C"));

        Assert.Equal(1.0, s.StructureF1);
        Assert.Equal(0, s.Shd);
    }

    [Fact]
    public void HandWorked_OneReversedOneMissingOneRight()
    {
        // Truth: A->B, B->C, A->C. Claimed: B->A (reversed), B->C (right).
        // Precision 1/2, recall 1/3 → F1 = 2·1/(3+2) = 0.4. SHD: AB reversed (1) + AC missing (1) = 2.
        var episode = Episode(HandWorlds.CancellingChain(), "C", Ask);

        var s = Score(episode, Structure(0, StepStatus.Valid, "B->A", "B->C"));

        Assert.Equal(0.4, s.StructureF1!.Value, 12);
        Assert.Equal(2, s.Shd);
    }

    [Fact]
    public void AReversedEdge_CountsOnceInShd()
    {
        var episode = Episode(HandWorlds.Collider(), "C", Ask); // A->C, B->C

        var s = Score(episode, Structure(0, StepStatus.Valid, "C->A", "B->C"));

        Assert.Equal(1, s.Shd);
        Assert.Equal(0.5, s.StructureF1);
    }

    [Fact]
    public void ExtraEdges_CostPrecisionAndShd()
    {
        var episode = Episode(HandWorlds.Collider(), "C", Ask);

        var s = Score(episode, Structure(0, StepStatus.Valid, "A->C", "B->C", "A->B"));

        Assert.Equal(2 * 2 / 5.0, s.StructureF1!.Value, 12); // precision 2/3, recall 1
        Assert.Equal(1, s.Shd);
    }

    [Fact]
    public void BothDirectionsClaimed_IsOneShdPairAgainstEitherTruth()
    {
        var episode = Episode(HandWorlds.Collider(), "C", Ask);

        var s = Score(episode, Structure(0, StepStatus.Valid, "A->C", "C->A", "B->C"));

        Assert.Equal(1, s.Shd);
    }

    [Fact]
    public void EmptyClaimAgainstAnEmptyGraph_IsPerfect()
    {
        var world = World.Create(["A", "B", "C"], [], 0.1);
        var episode = Episode(world, "C", Ask);

        var s = Score(episode, Structure(0, StepStatus.Valid));

        Assert.Equal(1.0, s.StructureF1);
        Assert.Equal(0, s.Shd);
    }

    [Fact]
    public void EmptyClaimAgainstANonEmptyGraph_IsZeroF1AndShdIsTheEdgeCount()
    {
        var episode = Episode(HandWorlds.CancellingChain(), "C", Ask);

        var s = Score(episode, Structure(0, StepStatus.Valid));

        Assert.Equal(0.0, s.StructureF1);
        Assert.Equal(3, s.Shd);
    }

    [Fact]
    public void EdgesOfHiddenVariables_AreNotPartOfTheTruth()
    {
        var episode = Episode(HandWorlds.HiddenRoot(), "B", Ask); // U->A, U->B hidden; A->B observable

        var s = Score(episode, Structure(0, StepStatus.Valid, "A->B"));

        Assert.Equal(1.0, s.StructureF1);
        Assert.Equal(0, s.Shd);
    }

    [Fact]
    public void AnInvalidOrMissingStructureAnswer_CountsAsAnEmptyGraph()
    {
        var episode = Episode(HandWorlds.Collider(), "C", Ask);

        var invalid = Score(episode, Structure(0, StepStatus.Invalid, "A->C", "B->C"));
        var missing = Score(episode, Exploit(0, "A", 5));

        Assert.Equal(0.0, invalid.StructureF1);
        Assert.Equal(2, invalid.Shd);
        Assert.Equal(0.0, missing.StructureF1);
        Assert.Equal(2, missing.Shd);
    }

    [Fact]
    public void WithoutTheStructureQuestion_ItDoesNotApply()
    {
        var episode = Episode(HandWorlds.Collider(), "C");

        var s = Score(episode, Structure(0, StepStatus.Valid, "A->C"));

        Assert.Null(s.StructureF1);
        Assert.Null(s.Shd);
    }

    [Fact]
    public void F1AndShd_StaticHelpersAgreeWithTheDefinition()
    {
        DirectedLink[] truth = [new("A", "B"), new("B", "C")];
        DirectedLink[] claimed = [new("A", "B"), new("C", "B"), new("A", "C")];

        string[] variables = ["A", "B", "C"];

        Assert.Equal(2.0 * 1 / (2 + 3), StructureScorer.F1(variables, truth, claimed), 12);
        Assert.Equal(2, StructureScorer.StructuralHammingDistance(variables, truth, claimed)); // BC reversed, AC extra
        Assert.Equal(0.0, StructureScorer.F1(variables, truth, []));
        Assert.Equal(0.0, StructureScorer.F1(variables, [], claimed));
        Assert.Equal(1.0, StructureScorer.F1(variables, [], []));
        Assert.Equal(StructureScorer.F1(variables, truth, claimed), StructureScorer.F1(variables, truth, [.. claimed, new("A", "B")]), 12);
    }

    [Fact]
    public void EdgesNamingVariablesByOtherEqualStrings_ScoreAsTheVariablesOwnStrings()
    {
        // The scorer looks a name up by instance first; an answer parsed from text holds other strings with the same
        // characters, and must score the same.
        var episode = Episode(HandWorlds.CancellingChain(), "C", Ask);
        static string Copy(string name) => new(name.AsSpan());
        var copied = new StepRecord(0, Phase.Structure,
            AgentDecision.Answer([new(Copy("B"), Copy("A")), new(Copy("B"), Copy("C"))]), StepStatus.Valid, null, default);

        var byCopies = Score(episode, copied);
        var byInstances = Score(episode, Structure(0, StepStatus.Valid, "B->A", "B->C"));

        Assert.Equal(0.4, byCopies.StructureF1!.Value, 12);
        Assert.Equal(2, byCopies.Shd);
        Assert.Equal(byInstances, byCopies);
        Assert.Equal(0.0, StructureScorer.F1(["A", "B"], [new("A", "B")], [new(Copy("A"), Copy("Z"))]));
    }

    [Fact]
    public void F1AndShd_RandomGraphsUpToTwelveVariables_AgreeWithCountingEdgeSetsAndPairs()
    {
        // Graphs past 8 variables take more than one 64-bit word of adjacency; claimed lists repeat edges and hold self-loops.
        var random = new CausalEval.Core.Randomness.SeededRandom(3);
        for (var trial = 0; trial < 400; trial++)
        {
            var n = 1 + trial % 12;
            var variables = Enumerable.Range(0, n).Select(i => $"V{i}").ToArray();
            DirectedLink[] Graph(int edges) => [.. Enumerable.Range(0, edges)
                .Select(_ => new DirectedLink(variables[random.NextInt(n)], new string(variables[random.NextInt(n)].AsSpan())))];
            var truth = Graph(random.NextInt(2 * n));
            var claimed = Graph(random.NextInt(2 * n));

            var truthSet = truth.ToHashSet();
            var claimedSet = claimed.ToHashSet();
            var hits = truthSet.Intersect(claimedSet).Count();
            var expectedF1 = truthSet.Count + claimedSet.Count == 0 ? 1 : 2.0 * hits / (truthSet.Count + claimedSet.Count);
            var expectedShd = 0;
            for (var i = 0; i < n; i++)
            {
                for (var j = i + 1; j < n; j++)
                {
                    DirectedLink forward = new(variables[i], variables[j]), backward = new(variables[j], variables[i]);
                    if (truthSet.Contains(forward) != claimedSet.Contains(forward) || truthSet.Contains(backward) != claimedSet.Contains(backward))
                    {
                        expectedShd++;
                    }
                }
            }

            Assert.Equal(expectedF1, StructureScorer.F1(variables, truth, claimed), 12);
            Assert.Equal(expectedShd, StructureScorer.StructuralHammingDistance(variables, truth, claimed));
        }
    }
}
