package dev.mor4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.train.RankSelection;
import dev.mor4j.llama.train.RouterStats;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The pictures of a fine-tuning run: {@code loss.png} (training loss and learning rate per step),
 * {@code router.png} (the MoR paper's Fig. 7: mean router weight of each adapted module × expert, one panel per
 * source dataset, on one colour scale) and, for MoRE, {@code ranks.png} (the rank each task chose in each module).
 */
public final class TrainingPlots {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\.(?:[a-z_]+\\.)?([A-Za-z0-9_]+)$");
    private static final int PANEL_WIDTH = 560;
    private static final int COLUMNS = 3;
    private static final int SCALE_HEIGHT = 40;

    private TrainingPlots() {
    }

    /**
     * Draws loss (left axis) and learning rate (right axis) against the step.
     *
     * @param metrics the lines of {@code metrics.jsonl}; steps with a non-finite loss are left out of the loss
     */
    static void loss(List<JsonNode> metrics, Path png) {
        List<Double> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<Double> lrSteps = new ArrayList<>();
        List<Double> lrs = new ArrayList<>();
        for (JsonNode m : metrics) {
            double step = m.path("step").asDouble();
            if (m.path("loss").isNumber()) {
                steps.add(step);
                losses.add(m.path("loss").asDouble());
            }
            if (m.path("lr").isNumber()) {
                lrSteps.add(step);
                lrs.add(m.path("lr").asDouble());
            }
        }
        if (losses.isEmpty()) {
            throw new MorException(png + ": no finite loss to plot");
        }
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Training loss and learning rate")
                .xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        chart.getStyler().putYAxisGroupDecimalPatternMap(1, "0.0E0");
        chart.setYAxisGroupTitle(0, "loss");
        chart.setYAxisGroupTitle(1, "learning rate");
        XYSeries loss = chart.addSeries("loss", steps, losses);
        loss.setMarker(SeriesMarkers.NONE);
        XYSeries lr = chart.addSeries("learning rate", lrSteps, lrs);
        lr.setMarker(SeriesMarkers.NONE);
        lr.setYAxisGroup(1);
        try {
            write(BitmapEncoder.getBufferedImage(chart), png);
        } catch (RuntimeException e) {
            throw new MorException(png + ": cannot draw the loss plot: " + e, e);
        }
    }

    /** Draws one heat map per dataset into a grid; the colour scale spans all of them. */
    static void router(RouterStats stats, Path png) {
        router(stats, png, "tokens", "mean router weight over training");
    }

    /**
     * Draws one heat map per dataset into a grid, on one colour scale.
     *
     * @param counted what {@link RouterStats#tokens} counts, named in each panel's title (e.g. {@code prompts})
     * @param caption what the colour scale shows
     */
    public static void router(RouterStats stats, Path png, String counted, String caption) {
        List<String> datasets = stats.datasetNames();
        if (stats.isEmpty() || datasets.isEmpty()) {
            throw new MorException(png + ": no router statistics to plot");
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (String d : datasets) {
            for (double[] row : stats.mean(d)) {
                for (double v : row) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (max - min < 1e-9) {
            max = min + 1e-9; // the mean router: every weight 1/N
        }
        // the y axis runs upwards: list the last module first so that layer 0 is at the top
        List<String> modules = new ArrayList<>();
        for (int m = stats.modules().size() - 1; m >= 0; m--) {
            modules.add(label(stats.modules().get(m)));
        }
        int rowsPerPanel = modules.size();
        List<Integer> experts = new ArrayList<>();
        for (int e = 0; e < stats.experts(); e++) {
            experts.add(e);
        }
        int panelHeight = 120 + 26 * rowsPerPanel;
        Color[] colors = null;
        Color background = Color.WHITE;
        List<BufferedImage> panels = new ArrayList<>();
        for (String d : datasets) {
            double[][] mean = stats.mean(d);
            List<Number[]> cells = new ArrayList<>();
            for (int m = 0; m < mean.length; m++) {
                for (int e = 0; e < mean[m].length; e++) {
                    cells.add(new Number[] {e, rowsPerPanel - 1 - m, mean[m][e]});
                }
            }
            HeatMapChart chart = new HeatMapChartBuilder().width(PANEL_WIDTH).height(panelHeight)
                    .title(String.format(Locale.ROOT, "%s (%,d %s)", d, stats.tokens(d), counted))
                    .xAxisTitle("expert").yAxisTitle("module").build();
            chart.getStyler().setMin(min).setMax(max).setShowValue(stats.experts() <= 12)
                    .setHeatMapValueDecimalPattern("0.00").setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10))
                    .setLegendVisible(false);
            chart.addSeries("mean router weight", experts, modules, cells);
            colors = chart.getStyler().getRangeColors();
            background = chart.getStyler().getChartBackgroundColor();
            panels.add(BitmapEncoder.getBufferedImage(chart));
        }
        int columns = Math.min(COLUMNS, panels.size());
        int rows = (panels.size() + columns - 1) / columns;
        int width = columns * PANEL_WIDTH;
        BufferedImage grid = new BufferedImage(width, rows * panelHeight + SCALE_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(background);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(panels.get(i), (i % columns) * PANEL_WIDTH, (i / columns) * panelHeight, null);
        }
        drawScale(g, colors, min, max, stats.experts(), 20, rows * panelHeight + 10, width - 40, caption);
        g.dispose();
        write(grid, png);
    }

    /**
     * Draws MoRE's rank selection as a heat map: one row per task (task 0 at the top), one column per adapted module
     * ({@link RankSelection#shortName}, e.g. {@code 0.gate}), each cell coloured by, and labelled with, the rank
     * {@code r_k*} that task uses there; the colour bar spans the rank experts {@code r_1 … r_K}.
     */
    public static void ranks(RankSelection selection, Path png) {
        List<String> modules = selection.modules();
        List<String> tasks = selection.tasks();
        int[] experts = selection.rankExperts();
        if (modules.isEmpty() || tasks.isEmpty() || experts.length == 0) {
            throw new MorException(png + ": no rank selection to plot");
        }
        List<String> columns = modules.stream().map(RankSelection::shortName).toList();
        List<String> rows = new ArrayList<>(); // the y axis runs upwards: the last task first
        for (int t = tasks.size() - 1; t >= 0; t--) {
            rows.add(tasks.get(t));
        }
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < tasks.size(); t++) {
            for (int m = 0; m < modules.size(); m++) {
                cells.add(new Number[] {m, tasks.size() - 1 - t, selection.chosenRanks()[t][m]});
            }
        }
        boolean labelled = modules.size() <= 48;
        int cell = labelled ? 44 : 14;
        int width = Math.max(700, 320 + cell * modules.size());
        int height = 170 + 26 * tasks.size();
        int min = experts[0];
        int max = experts[experts.length - 1];
        HeatMapChart chart = new HeatMapChartBuilder().width(width).height(height)
                .title("Rank chosen by each task in each module (rank experts " + Arrays.toString(experts)
                        + ")").xAxisTitle("module (layer.projection)").yAxisTitle("task").build();
        chart.getStyler().setMin(min).setMax(max > min ? max : min + 1e-9).setShowValue(labelled)
                .setHeatMapValueDecimalPattern("0").setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11))
                .setLegendVisible(true);
        chart.getStyler().setXAxisLabelRotation(columns.size() > 12 ? 90 : 0);
        chart.addSeries("chosen rank", columns, rows, cells);
        try {
            write(BitmapEncoder.getBufferedImage(chart), png);
        } catch (RuntimeException e) {
            throw new MorException(png + ": cannot draw the rank selection: " + e, e);
        }
    }

    /** The shared colour scale under the panels: a gradient from {@code min} to {@code max}. */
    private static void drawScale(Graphics2D g, Color[] colors, double min, double max, int experts, int x, int y,
            int width, String what) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.setColor(Color.BLACK);
        String caption = String.format(Locale.ROOT,
                "%s (uniform = 1/%d = %.3f):   %.3f", what, experts, 1.0 / experts, min);
        g.drawString(caption, x, y + 17);
        int barX = x + g.getFontMetrics().stringWidth(caption) + 8;
        String maxLabel = String.format(Locale.ROOT, "%.3f", max);
        int barWidth = Math.max(50, width - (barX - x) - g.getFontMetrics().stringWidth(maxLabel) - 8);
        for (int i = 0; i < barWidth; i++) {
            g.setColor(interpolate(colors, i / (double) (barWidth - 1)));
            g.fillRect(barX + i, y + 4, 1, 16);
        }
        g.setColor(Color.BLACK);
        g.drawRect(barX, y + 4, barWidth, 16);
        g.drawString(maxLabel, barX + barWidth + 8, y + 17);
    }

    private static Color interpolate(Color[] colors, double t) {
        if (colors == null || colors.length == 0) {
            int v = (int) Math.round(255 * (1 - t));
            return new Color(255, v, v);
        }
        if (colors.length == 1) {
            return colors[0];
        }
        double pos = t * (colors.length - 1);
        int i = Math.min((int) pos, colors.length - 2);
        double f = pos - i;
        Color a = colors[i];
        Color b = colors[i + 1];
        return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }

    /** {@code L0 gate_proj} for {@code base_model.model.model.layers.0.mlp.gate_proj}. */
    static String label(String module) {
        Matcher m = LAYER.matcher(module);
        return m.find() ? "L" + m.group(1) + " " + m.group(2) : module;
    }

    private static void write(BufferedImage image, Path png) {
        try {
            AtomicFiles.write(png, tmp -> {
                if (!ImageIO.write(image, "png", tmp.toFile())) {
                    throw new MorException(png + ": no PNG writer available");
                }
            });
        } catch (IOException e) {
            throw new MorException(png + ": cannot write: " + e.getMessage(), e);
        }
    }
}
