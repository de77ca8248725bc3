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

    [Fact]
    public void TryInvert_RandomMatrices_SameBitsAsGaussJordanUpdatingEveryColumn()
    {
        // The inversion skips the matrix's columns it never reads again; the answer must be the textbook one bit for bit.
        var random = new CausalEval.Core.Randomness.SeededRandom(5);
        for (var trial = 0; trial < 500; trial++)
        {
            var n = 1 + trial % 6;
            var matrix = new double[n * n];
            for (var k = 0; k < matrix.Length; k++)
            {
                matrix[k] = trial % 3 == 0 ? Math.Round(random.NextGaussian() * 2) : random.NextGaussian();
            }
            var expected = new double[n * n];
            var invertible = TextbookInvert([.. matrix], n, expected);
            var inverse = new double[n * n];

            Assert.Equal(invertible, Matrix.TryInvert([.. matrix], n, inverse));
            if (invertible)
            {
                Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), inverse.Select(BitConverter.DoubleToInt64Bits));
            }
        }
    }

    /// <summary>Gauss–Jordan with partial pivoting that scales and reduces every column of both matrices.</summary>
    private static bool TextbookInvert(double[] a, int n, double[] inverse)
    {
        for (var i = 0; i < n; i++)
        {
            inverse[i * n + i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r * n + col]) > Math.Abs(a[pivot * n + col]))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(a[pivot * n + col]) < 1e-12)
            {
                return false;
            }
            for (var c = 0; c < n; c++)
            {
                (a[col * n + c], a[pivot * n + c]) = (a[pivot * n + c], a[col * n + c]);
                (inverse[col * n + c], inverse[pivot * n + c]) = (inverse[pivot * n + c], inverse[col * n + c]);
            }
            var scale = 1 / a[col * n + col];
            for (var c = 0; c < n; c++)
            {
                a[col * n + c] *= scale;
                inverse[col * n + c] *= scale;
            }
            for (var r = 0; r < n; r++)
            {
                var factor = a[r * n + col];
                if (r == col || factor == 0)
                {
                    continue;
                }
                for (var c = 0; c < n; c++)
                {
                    a[r * n + c] -= factor * a[col * n + c];
                    inverse[r * n + c] -= factor * inverse[col * n + c];
                }
            }
        }
        return true;
    }
}
