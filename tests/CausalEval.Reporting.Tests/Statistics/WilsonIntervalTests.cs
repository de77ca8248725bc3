using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class WilsonIntervalTests
{
    // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857–872,
    // Table II, method 3 (Wilson score, no continuity correction), given to four decimals.
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Matches_published_95_percent_intervals(int successes, int trials, double lower, double upper)
    {
        var interval = WilsonInterval.Compute(successes, trials);

        Assert.Equal(lower, interval.Lower, 0.00005);
        Assert.Equal(upper, interval.Upper, 0.00005);
        Assert.Equal((double)successes / trials, interval.Estimate, 1e-15);
    }

    [Fact]
    public void Matches_the_formula_worked_by_hand_at_99_and_90_percent()
    {
        // 81/263: centre (x + z²/2)/(n + z²), half-width z·sqrt(x(n−x)/n + z²/4)/(n + z²),
        // with z = 2.5758293035489 and 1.6448536269514722.
        var at99 = WilsonInterval.Compute(81, 263, 0.99);
        var at90 = WilsonInterval.Compute(81, 263, 0.90);

        Assert.Equal(0.240136902687608, at99.Lower, 1e-12);
        Assert.Equal(0.385282502318230, at99.Upper, 1e-12);
        Assert.Equal(0.263313617188481, at90.Lower, 1e-12);
        Assert.Equal(0.356566349608488, at90.Upper, 1e-12);
    }

    [Fact]
    public void All_failures_give_a_lower_bound_of_exactly_zero_and_the_closed_form_upper_bound()
    {
        // With x = 0 the upper bound reduces to z² / (n + z²).
        double zSquared = 1.959963984540054 * 1.959963984540054;

        var interval = WilsonInterval.Compute(0, 10);

        Assert.Equal(0.0, interval.Lower);
        Assert.Equal(zSquared / (10 + zSquared), interval.Upper, 1e-12);
    }

    [Fact]
    public void All_successes_mirror_all_failures()
    {
        var none = WilsonInterval.Compute(0, 10);
        var all = WilsonInterval.Compute(10, 10);

        Assert.Equal(1.0, all.Upper);
        Assert.Equal(1 - none.Upper, all.Lower, 1e-12);
    }

    [Fact]
    public void No_trials_give_an_undefined_estimate_and_the_whole_unit_interval()
    {
        var interval = WilsonInterval.Compute(0, 0);

        Assert.True(double.IsNaN(interval.Estimate));
        Assert.Equal(0.0, interval.Lower);
        Assert.Equal(1.0, interval.Upper);
    }

    [Fact]
    public void Higher_confidence_gives_a_wider_interval()
    {
        Assert.True(WilsonInterval.Compute(30, 100, 0.99).Width > WilsonInterval.Compute(30, 100, 0.95).Width);
    }

    [Theory]
    [InlineData(-1, 10, 0.95)]
    [InlineData(11, 10, 0.95)]
    [InlineData(0, -1, 0.95)]
    [InlineData(5, 10, 0.0)]
    [InlineData(5, 10, 1.0)]
    [InlineData(5, 10, double.NaN)]
    public void Rejects_impossible_arguments(int successes, int trials, double confidence)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(successes, trials, confidence));
    }
}
