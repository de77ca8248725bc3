using CausalEval.Core.Agents;

namespace CausalEval.Core.Tests.Agents;

public class MatrixTests
{
    [Fact]
    public void TryInvert_IPlusTotalEffectsOfAChain_IsIMinusTheDirectWeights()
    {
        // A → B → C with weights +1 and −1: T = [[0, 1, −1], [0, 0, −1], [0, 0, 0]], and (I + T)⁻¹ = I − W by hand.
        double[] identityPlusT = [1, 1, -1, 0, 1, -1, 0, 0, 1];
        var inverse = new double[9];

        Assert.True(Matrix.TryInvert(identityPlusT, 3, inverse));

        Assert.Equal([1, -1, 0, 0, 1, 1, 0, 0, 1], inverse);
    }

    [Fact]
    public void TryInvert_AZeroOnTheDiagonal_PivotsOnTheLargerRow()
    {
        double[] matrix = [0, 2, 4, 0];
        var inverse = new double[4];

        Assert.True(Matrix.TryInvert(matrix, 2, inverse));

        Assert.Equal([0, 0.25, 0.5, 0], inverse);
    }

    [Fact]
    public void TryInvert_ASingularMatrix_IsFalse()
    {
        double[] matrix = [1, 2, 2, 4];

        Assert.False(Matrix.TryInvert(matrix, 2, new double[4]));
    }
}
