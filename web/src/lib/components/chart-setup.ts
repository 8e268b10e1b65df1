/** Chart.js with only the parts the widgets use, themed for the dark dashboard. */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
);
Chart.defaults.color = '#8797b0';
Chart.defaults.borderColor = '#23314b';
Chart.defaults.font.family = "Inter, 'Segoe UI', system-ui, sans-serif";
Chart.defaults.font.size = 11;
Chart.defaults.animation = false;

export const SERIES_COLOURS = [
  '#4fb3bf',
  '#6c8cff',
  '#f2c14e',
  '#ff6b8b',
  '#9fd14a',
  '#c58cff',
  '#f28c38',
  '#5ad1ff',
  '#e0e0e0',
  '#8a9ab3',
  '#ffa7c4',
  '#7ee8c0',
];

export { Chart };
