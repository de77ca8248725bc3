using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class McNemarTestTests
{
    // Worked by hand: p = 2 · Σ_{i ≤ min(b,c)} C(b+c, i) / 2^(b+c).
    [Theory]
    [InlineData(1, 9, 0.021484375)] // 2 · (1 + 10) / 1024
    [InlineData(9, 1, 0.021484375)]
    [InlineData(0, 5, 0.0625)] // 2 · 1 / 32
    [InlineData(3, 7, 0.34375)] // 2 · (1 + 10 + 45 + 120) / 1024
    [InlineData(0, 1, 1.0)] // 2 · 1/2, capped
    public void Small_counts_match_hand_computed_values(int b, int c, double expected)
    {
        Assert.Equal(expected, McNemarTest.ExactTwoSidedPValue(b, c), 1e-15);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(50_000)]
    public void Equal_discordant_counts_give_one(int count)
    {
        Assert.Equal(1.0, McNemarTest.ExactTwoSidedPValue(count, count));
    }

    // References: the same formula evaluated exactly with big-integer binomial sums
    // (Python fractions), then rounded to double.
    [Theory]
    [InlineData(25, 75, 5.636282034205402e-07)]
    [InlineData(100, 200, 8.014875216538918e-09)]
    [InlineData(480, 520, 0.21744829320414094)]
    [InlineData(4999, 5001, 0.9920213538606178)]
    [InlineData(49_800, 50_200, 0.20703897176422484)]
    [InlineData(49_500, 50_500, 0.0015823598788515956)]
    [InlineData(49_000, 51_000, 2.588716038346898e-10)]
    [InlineData(0, 1000, 1.8665272370064378e-301)] // 2 · 2^-1000
    public void Large_counts_match_exact_rational_arithmetic(int b, int c, double expected)
    {
        double actual = McNemarTest.ExactTwoSidedPValue(b, c);

        Assert.True(Math.Abs(actual - expected) <= 1e-13 * expected, $"expected {expected:R}, got {actual:R}");
    }

    [Theory]
    [InlineData(2, 1100)]
    [InlineData(30_000, 70_000)]
    public void P_values_beyond_double_range_underflow_to_zero_without_failing(int b, int c)
    {
        Assert.Equal(0.0, McNemarTest.ExactTwoSidedPValue(b, c));
    }

    [Fact]
    public void Large_balanced_counts_agree_with_the_normal_approximation()
    {
        // Independent check: for 100,000 discordant pairs the exact binomial test and the continuity-corrected
        // chi-square (normal) approximation agree to well within 0.002.
        for (int i = 0; i < 100; i += 11)
        {
            int b = 49_990 - i, c = 50_010 + i;
            double z = (Math.Abs(b - c) - 1) / Math.Sqrt(b + c);
            double approximate = 2 * (1 - NormalCdf(z));
            Assert.InRange(McNemarTest.ExactTwoSidedPValue(b, c), approximate - 0.002, approximate + 0.002);
        }
    }

    /// <summary>Φ(z) by the Abramowitz–Stegun 26.2.17 series (error below 7.5e-8).</summary>
    private static double NormalCdf(double z)
    {
        double t = 1 / (1 + 0.2316419 * Math.Abs(z));
        double d = Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
        double tail = d * t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return z >= 0 ? 1 - tail : tail;
    }

    [Fact]
    public void Negative_counts_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => McNemarTest.ExactTwoSidedPValue(-1, 3));
    }
}
