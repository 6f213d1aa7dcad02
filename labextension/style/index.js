import './base.css';
import './runs.css';
import './graph.css';
import './diff.css';
import './models.css';
import './pipeline.css';
import './narrow.css';
