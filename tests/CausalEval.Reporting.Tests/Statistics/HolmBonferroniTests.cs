using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class HolmBonferroniTests
{
    [Fact]
    public void Worked_example_is_adjusted_and_returned_in_input_order()
    {
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to 0.06 (monotone).
        double[] adjusted = HolmBonferroni.Adjust([0.01, 0.04, 0.03, 0.005]);

        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted, (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void Adjusted_values_are_capped_at_one()
    {
        double[] adjusted = HolmBonferroni.Adjust([0.4, 0.5, 0.9]);

        // 0.4·3 = 1.2 → 1, then the running maximum keeps 1.
        Assert.Equal([1.0, 1.0, 1.0], adjusted);
    }

    [Fact]
    public void Adjusted_values_keep_the_order_of_the_raw_values_and_never_fall_below_them()
    {
        double[] raw = [0.2, 0.001, 0.049, 0.03, 0.5, 0.011, 0.0101];

        double[] adjusted = HolmBonferroni.Adjust(raw);

        for (int i = 0; i < raw.Length; i++)
        {
            Assert.True(adjusted[i] >= raw[i]);
            for (int j = 0; j < raw.Length; j++)
            {
                if (raw[i] < raw[j]) Assert.True(adjusted[i] <= adjusted[j], $"{i} vs {j}");
            }
        }
    }

    [Fact]
    public void Tied_p_values_get_the_same_adjustment()
    {
        double[] adjusted = HolmBonferroni.Adjust([0.02, 0.01, 0.02]);

        // 0.01·3 = 0.03, 0.02·2 = 0.04, 0.02·1 → 0.04.
        Assert.Equal([0.04, 0.03, 0.04], adjusted, (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void A_single_test_is_unchanged()
    {
        Assert.Equal([0.037], HolmBonferroni.Adjust([0.037]));
    }

    [Fact]
    public void An_empty_family_gives_an_empty_result()
    {
        Assert.Empty(HolmBonferroni.Adjust([]));
    }

    [Fact]
    public void Tests_that_could_not_run_stay_NaN_and_do_not_count_towards_the_family()
    {
        double[] adjusted = HolmBonferroni.Adjust([0.01, double.NaN, 0.04]);

        Assert.Equal(0.02, adjusted[0], 1e-15);
        Assert.True(double.IsNaN(adjusted[1]));
        Assert.Equal(0.04, adjusted[2], 1e-15);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    public void Values_outside_the_unit_interval_are_rejected(double p)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HolmBonferroni.Adjust([0.1, p]));
    }
}
