package pythonmodel.h2o;

import hex.ModelCategory;
import hex.genmodel.easy.EasyPredictModelWrapper;
import hex.genmodel.easy.RowData;
import hex.genmodel.easy.exception.PredictException;
import hex.genmodel.easy.prediction.BinomialModelPrediction;
import hex.genmodel.easy.prediction.MultinomialModelPrediction;

/**
 * Scores a batch of rows with H2O's EasyPredictModelWrapper in one call from the Python
 * worker (h2o_handler.py). Each call from Python into the JVM costs microseconds, as much
 * as scoring a row: the batch crosses as two arrays, and the rows are made into RowData
 * here, so that H2O itself turns them into the model's input (level lookup, unknown
 * levels, missing values), as its own tools do.
 *
 * Compiled by `npm run setup` into .h2o/libs/h2o-batch-scorer.jar.
 */
public final class BatchScorer {
  private final EasyPredictModelWrapper wrapper;
  private final String[] numericColumns;
  private final String[] categoricalColumns;
  private final ModelCategory category;
  private final int width;

  public BatchScorer(EasyPredictModelWrapper wrapper, String[] numericColumns, String[] categoricalColumns) {
    this.wrapper = wrapper;
    this.numericColumns = numericColumns;
    this.categoricalColumns = categoricalColumns;
    this.category = wrapper.getModelCategory();
    if (category != ModelCategory.Binomial && category != ModelCategory.Multinomial && category != ModelCategory.Regression) {
      throw new IllegalArgumentException("cannot score " + category + " models");
    }
    this.width = category == ModelCategory.Regression ? 1 : 1 + wrapper.getModel().getNumResponseClasses();
  }

  /**
   * numbers: each row's numeric columns (NaN when missing), row after row; levels: each
   * row's categorical columns (null when missing), row after row. Returns, row after row,
   * a regression's value, or a classifier's label index then its class probabilities.
   */
  public double[] score(double[] numbers, String[] levels, int rows) throws PredictException {
    double[] out = new double[rows * width];
    for (int r = 0; r < rows; r++) {
      RowData row = new RowData();
      for (int c = 0; c < numericColumns.length; c++) {
        double value = numbers[r * numericColumns.length + c];
        if (!Double.isNaN(value)) row.put(numericColumns[c], value); // a column left out is missing
      }
      for (int c = 0; c < categoricalColumns.length; c++) {
        String level = levels[r * categoricalColumns.length + c];
        if (level != null) row.put(categoricalColumns[c], level);
      }
      int at = r * width;
      if (category == ModelCategory.Binomial) {
        BinomialModelPrediction p = wrapper.predictBinomial(row);
        out[at] = p.labelIndex;
        System.arraycopy(p.classProbabilities, 0, out, at + 1, width - 1);
      } else if (category == ModelCategory.Multinomial) {
        MultinomialModelPrediction p = wrapper.predictMultinomial(row);
        out[at] = p.labelIndex;
        System.arraycopy(p.classProbabilities, 0, out, at + 1, width - 1);
      } else {
        out[at] = wrapper.predictRegression(row).value;
      }
    }
    return out;
  }
}
