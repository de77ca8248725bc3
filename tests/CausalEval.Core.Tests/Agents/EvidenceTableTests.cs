using CausalEval.Core.Agents;

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
}
