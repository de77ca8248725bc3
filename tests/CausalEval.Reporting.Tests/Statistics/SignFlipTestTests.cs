using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class SignFlipTestTests
{
    [Theory]
    [InlineData(6, 1)]
    [InlineData(3, 3)]
    [InlineData(10, 0)]
    [InlineData(9, 4)]
    public void With_differences_of_one_it_is_McNemars_exact_test(int onlyFirst, int onlySecond)
    {
        double[] differences = [.. Enumerable.Repeat(1.0, onlyFirst), .. Enumerable.Repeat(-1.0, onlySecond), 0, 0, 0];

        Assert.Equal(McNemarTest.ExactTwoSidedPValue(onlyFirst, onlySecond), SignFlipTest.TwoSidedPValue(differences), 12);
    }

    [Fact]
    public void Hand_worked_real_valued_differences()
    {
        // 0.5 and 1.0: sums over the four sign patterns are ±1.5 and ±0.5; only ±1.5 reach |1.5| → p = 2/4.
        Assert.Equal(0.5, SignFlipTest.TwoSidedPValue([0.5, 1.0]), 12);
        // 1, 1, 1, −0.25: |sum| = 2.75, reached by (+ + + −), (− − − +) and (+ + + +), (− − − −) → 4/16.
        Assert.Equal(0.25, SignFlipTest.TwoSidedPValue([1, 1, 1, -0.25]), 12);
        Assert.Equal(1, SignFlipTest.TwoSidedPValue([0, 0, 0]));
    }

    [Fact]
    public void Above_the_exact_limit_the_normal_approximation_agrees_with_McNemar_for_large_counts()
    {
        double[] differences = [.. Enumerable.Repeat(1.0, 60), .. Enumerable.Repeat(-1.0, 35)];

        var approximate = SignFlipTest.TwoSidedPValue(differences);
        var exact = McNemarTest.ExactTwoSidedPValue(60, 35);

        Assert.InRange(approximate / exact, 0.75, 1.25);
    }
}
