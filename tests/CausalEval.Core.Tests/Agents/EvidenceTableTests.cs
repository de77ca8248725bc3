using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Agents;

public class EvidenceTableTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.49999999999999994)] // the largest double below ½
    [InlineData(-0.49999999999999994)]
    [InlineData(0.5)]
    [InlineData(-0.5)]
    [InlineData(0.5000000000000001)]
    [InlineData(1.4999999999999998)]
    [InlineData(-2.5)]
    [InlineData(1e-300)]
    [InlineData(double.Epsilon)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.NaN)]
    [InlineData(double.MaxValue)]
    public void RoundsToAnEdge_AgreesWithRoundingHalfAwayFromZero(double weight)
    {
        Assert.Equal(Math.Round(weight, MidpointRounding.AwayFromZero) != 0, EvidenceTable.RoundsToAnEdge(weight));
    }

    [Fact]
    public void RoundsToAnEdge_AgreesWithRoundingOnRandomWeights()
    {
        var random = new CausalEval.Core.Randomness.SeededRandom(11);
        for (var i = 0; i < 100_000; i++)
        {
            var weight = random.NextGaussian() * (i % 2 == 0 ? 0.5 : 3);
            Assert.Equal(Math.Round(weight, MidpointRounding.AwayFromZero) != 0, EvidenceTable.RoundsToAnEdge(weight));
        }
    }

    // Variables A, B, C. Passive evidence: do(A = 2) → (2, 3, 1), one observational sample (1, 1, 4); then explore steps:
    // do(A = −5) → (−5, −4, 0), an invalid do(B = 5) and an unreadable answer (neither was carried out), do(C = 5) → (1, 2, 5).
    private static EpisodeView View()
    {
        var evidence = new PassiveEvidence(PassiveEvidence.Observational,
        [
            new EvidenceSample(new Intervention("A", 2), [2.0, 3, 1]),
            new EvidenceSample(null, [1.0, 1, 4]),
        ]);
        var brief = new EpisodeBrief("e", ["A", "B", "C"], [-5.0, 5], [], ["A", "B", "C"], 4, false, false, evidence);
        StepRecord[] history =
        [
            new(0, Phase.Explore, AgentDecision.Act(new Intervention("A", -5)), StepStatus.Valid, null, [-5.0, -4, 0]),
            new(1, Phase.Explore, AgentDecision.Act(new Intervention("B", 5)), StepStatus.Invalid, "not allowed", default),
            new(2, Phase.Explore, new AgentDecision { ParseError = "no ACTION line" }, StepStatus.ParseFailure, "no ACTION line", default),
            new(3, Phase.Explore, AgentDecision.Act(new Intervention("C", 5)), StepStatus.Valid, null, [1.0, 2, 5]),
        ];
        return new EpisodeView(brief, Phase.Exploit, 4, "B", history);
    }

    [Fact]
    public void InterventionalEffect_IsTheMeanOfEffectOverValue_OverTheCausesInterventions()
    {
        var table = EvidenceTable.From(View());

        Assert.Equal((3.0 / 2 + -4.0 / -5) / 2, table.InterventionalEffect(0, 1));  // A → B: do(A = 2) and do(A = −5)
        Assert.Equal((1.0 / 2 + 0.0 / -5) / 2, table.InterventionalEffect(0, 2));
        Assert.Equal(2.0 / 5, table.InterventionalEffect(2, 1));                     // C → B: do(C = 5) only
        Assert.Equal(table.RegressionSlope(1, 0), table.InterventionalEffect(1, 0)); // B was never set: the regression
    }

    [Fact]
    public void RegressionSlope_IsLeastSquaresOverEverySampleSeen_NotTheStepsThatWereNotCarriedOut()
    {
        var table = EvidenceTable.From(View());
        // The four samples seen, worked by hand: B on A, means −0.25 and 0.5.
        double[] a = [2, 1, -5, 1], b = [3, 1, -4, 2];
        var sxy = a.Zip(b).Sum(p => (p.First - -0.25) * (p.Second - 0.5));
        var sxx = a.Sum(x => (x - -0.25) * (x - -0.25));

        Assert.Equal(sxy / sxx, table.RegressionSlope(0, 1), 12);
    }

    [Fact]
    public void RegressionSlope_WithFewerThanTwoSamples_IsZero()
    {
        var oneSample = View() with { History = [View().History[0]] };
        oneSample = oneSample with { Brief = oneSample.Brief with { Evidence = null } };

        Assert.Equal(0, EvidenceTable.From(oneSample).RegressionSlope(0, 1));
        Assert.Equal(-4.0 / -5, EvidenceTable.From(oneSample).InterventionalEffect(0, 1));
    }
}
