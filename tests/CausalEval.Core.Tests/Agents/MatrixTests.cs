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
    public void TryInvert_SpansShorterThanNByN_Throw()
    {
        Assert.Throws<ArgumentException>(() => Matrix.TryInvert(new double[3], 2, new double[4]));
        Assert.Throws<ArgumentException>(() => Matrix.TryInvert(new double[4], 2, new double[3]));
    }

    [Fact]
    public void TryInvert_ASingularMatrix_IsFalse()
    {
        double[] matrix = [1, 2, 2, 4];

        Assert.False(Matrix.TryInvert(matrix, 2, new double[4]));
    }

    [Fact]
    public void Divide_EveryLength_SameBitsAsOneDivisionAtATime()
    {
        var random = new CausalEval.Core.Randomness.SeededRandom(8);
        for (var length = 0; length <= 11; length++)
        {
            var source = Enumerable.Range(0, length).Select(_ => random.NextGaussian() * 10).ToArray();
            var divisor = 1 + random.NextInt(7) + random.NextDouble();
            var quotients = new double[length + 1];
            quotients[length] = 42;

            Matrix.Divide(source, divisor, quotients);

            Assert.Equal(source.Select(x => BitConverter.DoubleToInt64Bits(x / divisor)), quotients.Take(length).Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(42, quotients[length]);
        }
        Assert.Throws<ArgumentException>(() => Matrix.Divide(new double[3], 2, new double[2]));
    }

    [Fact]
    public void TryInvert_RandomMatrices_SameBitsAsGaussJordanUpdatingEveryColumn()
    {
        // The inversion skips the matrix's columns it never reads again, and does rows four columns at a time; the answer
        // must be the textbook one bit for bit, for every width (up to two vectors and a remainder).
        var random = new CausalEval.Core.Randomness.SeededRandom(5);
        for (var trial = 0; trial < 900; trial++)
        {
            var n = 1 + trial % 9;
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

    /// <summary>
    /// Gauss–Jordan with partial pivoting (the first of equal largest pivots) on [A | I] as one n × 2n array, every column
    /// scaled and reduced.
    /// </summary>
    private static bool TextbookInvert(double[] matrix, int n, double[] inverse)
    {
        var augmented = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                augmented[i, j] = matrix[i * n + j];
            }
            augmented[i, n + i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var best = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(augmented[r, col]));
            if (Math.Abs(augmented[best, col]) < 1e-12)
            {
                return false;
            }
            for (var j = 0; j < 2 * n; j++)
            {
                (augmented[col, j], augmented[best, j]) = (augmented[best, j], augmented[col, j]);
            }
            var scale = 1 / augmented[col, col];
            for (var j = 0; j < 2 * n; j++)
            {
                augmented[col, j] *= scale;
            }
            foreach (var r in Enumerable.Range(0, n).Where(r => r != col && augmented[r, col] != 0))
            {
                var factor = augmented[r, col];
                for (var j = 0; j < 2 * n; j++)
                {
                    augmented[r, j] -= factor * augmented[col, j];
                }
            }
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                inverse[i * n + j] = augmented[i, n + j];
            }
        }
        return true;
    }
}
