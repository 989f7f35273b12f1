package org.pypush.realfaces;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.faces.event.AjaxBehaviorEvent;
import jakarta.inject.Named;
import java.util.concurrent.atomic.AtomicInteger;

/** How many times the push behavior's ajax request reached the server (its listener). */
@Named
@ApplicationScoped
public class BehaviorRequests {

    private final AtomicInteger count = new AtomicInteger();

    /**
     * The listener of {@code <f:ajax event="refreshed">} in the {@code <f:websocket>}: with the
     * event parameter, which MyFaces requires (Mojarra also finds a method without it).
     */
    public void requested(AjaxBehaviorEvent event) {
        count.incrementAndGet();
    }

    public int getCount() {
        return count.get();
    }
}
