"""Assignment 02: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py."""

MISTAKES = {
    # (a) linear_grads
    "no_factor_two": {"cell": "linear_grads", "replace": [("2.0 / n * (x.T @ r), 2.0 / n * r.sum()", "(x.T @ r) / n, r.sum() / n")],
                      "expect": "times 2"},
    "sum_not_mean": {"cell": "linear_grads", "replace": [("2.0 / n * (x.T @ r), 2.0 / n * r.sum()", "2.0 * (x.T @ r), 2.0 * r.sum()")],
                     "expect": "divided by N"},
    "residual_sign": {"cell": "linear_grads", "replace": [("r = x @ w + b - y", "r = y - (x @ w + b)")],
                      "expect": "prediction minus target"},
    "x_not_transposed": {"cell": "linear_grads", "replace": [("(x.T @ r)", "(x @ r)")], "expect": "x.T @ r"},
    "elementwise_not_matmul": {"cell": "linear_grads", "replace": [("(x.T @ r)", "(x * r[:, None]).mean(0) * n / x.shape[1]")],
                               "expect": "x.T @ r"},
    "grad_b_vector": {"cell": "linear_grads", "replace": [("2.0 / n * r.sum()", "2.0 / n * r")], "expect": "scalar (0-dimensional)"},
    "uses_autograd": {"cell": "linear_grads", "code": (
        "def linear_grads(x, y, w, b):\n"
        "    w = w.clone().requires_grad_(True)\n"
        "    b = b.clone().requires_grad_(True)\n"
        "    ((x @ w + b - y) ** 2).mean().backward()\n"
        "    return w.grad, b.grad"), "expect": "the task asks you to write it yourself"},
    "uses_course_lib": {"cell": "linear_grads", "code": (
        "from course_lib import train\n\n"
        "def linear_grads(x, y, w, b):\n"
        "    r = x @ w + b - y\n"
        "    return train.fit and 2 / len(r) * x.T @ r, 2 / len(r) * r.sum()"), "expect": "course_lib"},
    # (b) MLP
    "layers_in_plain_list": {"cell": "mlp", "replace": [(
        "        self.hidden = nn.Linear(n_in, hidden)\n        self.out = nn.Linear(hidden, n_out)",
        "        self.layers = [nn.Linear(n_in, hidden), nn.Linear(hidden, n_out)]"),
        ("return self.out(torch.relu(self.hidden(x)))", "return self.layers[1](torch.relu(self.layers[0](x)))")],
        "expect": "not in a plain Python list"},
    "no_relu": {"cell": "mlp", "replace": [("self.out(torch.relu(self.hidden(x)))", "self.out(self.hidden(x))")],
                "expect": "a ReLU between the layers"},
    "relu_after_last": {"cell": "mlp", "replace": [("self.out(torch.relu(self.hidden(x)))", "torch.relu(self.out(torch.relu(self.hidden(x))))")],
                        "expect": "none after the last one"},
    "no_super_init": {"cell": "mlp", "replace": [("        super().__init__()\n", "")], "expect": "super().__init__()"},
    "wrong_layer_sizes": {"cell": "mlp", "replace": [("self.out = nn.Linear(hidden, n_out)", "self.out = nn.Linear(hidden, hidden)")],
                          "expect": "four parameter tensors"},
    "sigmoid_not_relu": {"cell": "mlp", "replace": [("torch.relu(", "torch.sigmoid(")], "expect": "a ReLU between the layers"},
    "mlp_from_library": {"cell": "mlp", "code": (
        "from course_lib.models.char_mlp import CharMLP\n\n"
        "class MLP(nn.Module):\n"
        "    def __init__(self, n_in, hidden, n_out):\n"
        "        super().__init__()\n"
        "        self.base = CharMLP\n"
        "        self.hidden = nn.Linear(n_in, hidden)\n"
        "        self.out = nn.Linear(hidden, n_out)\n\n"
        "    def forward(self, x):\n"
        "        return self.out(torch.relu(self.hidden(x)))"), "expect": "course_lib"},
    # (c) train_sgd
    "no_zero_grad": {"cell": "train_sgd", "replace": [("        optimizer.zero_grad()\n", "")], "expect": "zero the gradients"},
    "step_before_backward": {"cell": "train_sgd", "replace": [("        loss.backward()\n        optimizer.step()",
                                                               "        optimizer.step()\n        loss.backward()")],
                             "expect": "backward before step"},
    "keeps_tensors": {"cell": "train_sgd", "replace": [("losses.append(loss.item())", "losses.append(loss)")],
                      "expect": "Python floats"},
    "loss_after_update": {"cell": "train_sgd", "replace": [("losses.append(loss.item())",
                                                            "losses.append(loss_fn(model, batch).item())"),
                                                           ("loss = loss_fn(model, next(batches))", "batch = next(batches)\n        loss = loss_fn(model, batch)")],
                          "expect": "before its update"},
    "first_batch_only": {"cell": "train_sgd", "replace": [("    losses = []\n", "    losses = []\n    first = next(batches)\n"),
                                                          ("loss_fn(model, next(batches))", "loss_fn(model, first)")],
                         "expect": "one new batch per step"},
    "adam_not_sgd": {"cell": "train_sgd", "replace": [("torch.optim.SGD(model.parameters(), lr=lr)", "torch.optim.Adam(model.parameters(), lr=lr)")],
                     "expect": "plain SGD"},
    "one_step_too_many": {"cell": "train_sgd", "replace": [("for _ in range(steps):", "for _ in range(steps + 1):")],
                          "expect": "exactly steps"},
    "uses_fit": {"cell": "train_sgd", "code": (
        "from course_lib.train import fit\n\n"
        "def train_sgd(model, loss_fn, batches, lr, steps):\n"
        "    history = fit(model, loss_fn, batches, optimizer=torch.optim.SGD(model.parameters(), lr=lr), steps=steps)\n"
        "    return [float(v) for v in history.loss]"), "expect": "course_lib"},
}

HONEST = {
    "grads_by_sums": {"cell": "linear_grads", "code": """
def linear_grads(x, y, w, b):
    N = len(y)
    err = (x * w).sum(dim=1) + b - y
    grad_w = 2 * (err[:, None] * x).sum(dim=0) / N
    grad_b = 2 * err.mean()
    return grad_w, grad_b
"""},
    "mlp_sequential": {"cell": "mlp", "code": """
class MLP(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super(MLP, self).__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x):
        return self.net(x)
"""},
    "train_manual_update": {"cell": "train_sgd", "code": """
def train_sgd(model, loss_fn, batches, lr, steps):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    history = []
    for step in range(steps):
        batch = next(batches)
        opt.zero_grad()
        loss = loss_fn(model, batch)
        history.append(float(loss))
        loss.backward()
        opt.step()
    return history
"""},
}
