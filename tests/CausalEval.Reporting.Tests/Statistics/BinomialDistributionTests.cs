using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class BinomialDistributionTests
{
    [Theory]
    [InlineData(2, 10, 56.0 / 1024)] // 1 + 10 + 45
    [InlineData(5, 10, 638.0 / 1024)] // the median term, 252, is included
    [InlineData(7, 10, 968.0 / 1024)] // above the mode: 1 − P(X ≤ 2)
    [InlineData(-1, 10, 0.0)]
    [InlineData(10, 10, 1.0)]
    [InlineData(0, 0, 1.0)]
    public void Fair_coin_cumulative_matches_counting(long k, long n, double expected)
    {
        Assert.Equal(expected, BinomialDistribution.FairCoinCumulative(k, n), 1e-14);
    }

    [Theory]
    [InlineData(3, 10, 0.3, 0.2668279320)] // 120 · 0.3³ · 0.7⁷
    [InlineData(0, 4, 0.25, 0.31640625)] // 0.75⁴
    [InlineData(20, 40, 0.5, 0.12537068761)] // C(40,20) / 2⁴⁰ = 137846528820 / 1099511627776
    public void Log_probability_matches_the_probability_mass_function(long k, long n, double p, double expected)
    {
        Assert.Equal(expected, Math.Exp(BinomialDistribution.LogProbability(k, n, p)), 1e-10);
    }
}
